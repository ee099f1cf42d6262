//! libsparkpolicy: the JNI face of the core crate. Every export lives in `exports.rs`: it converts
//! its Java arguments (`marshal`) and makes one call into `calls`, inside `guard::export`, which
//! turns errors and panics into Java exceptions. Native state is held in `handles`, keyed by opaque
//! `jlong` ids that Java frees with an idempotent `close`. Wire formats belong to the core crate;
//! `ipc` only frames Arrow batches as IPC streams, and `wire` serves `wireRoundTrip`.

pub mod calls;
mod exports;
pub mod guard;
pub mod handles;
pub mod ipc;
mod logging;
mod marshal;
pub mod wire;

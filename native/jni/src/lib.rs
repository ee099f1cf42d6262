//! libsparkpolicy: the JNI face of the core crate. Every export lives in `exports.rs` and runs
//! inside `guard::guarded`, which turns errors and panics into Java exceptions. Native state is
//! held in `handles`, keyed by opaque `jlong` ids that Java frees with an idempotent `close`.

mod exports;
pub mod guard;
pub mod handles;
pub mod ipc;
mod logging;

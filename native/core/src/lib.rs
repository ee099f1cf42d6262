//! Pure-Rust kernels of Spark Policy Toolkit. Nothing here knows about JNI or Spark:
//! the JNI crate decodes Arrow IPC and calls these functions, and `cargo test` exercises them directly.
//!
//! Data flow of a fit, in file order:
//! `fixed_point` (Γ → integers) → `binning` (x → bin code) → `block` (a partition's binned rows, kept decoded
//! across a fit's passes by `block_cache`)
//! → `histogram` (per-node reward histograms, on the `coarse` search grid)
//! → `split` and `refine` (best split of a merged histogram, then its fine threshold)
//! (or, for a two-level search: `pair` → `pair_search`, the best depth-2 subtree's root, as a `pair_record`)
//! → `node_table` (the tree) → `leaves` (a block's rows → their leaf, for the training output signature)
//! → `scoring` (raw rows → arm, scores, leaf), or for a forest `forest` (raw rows → every tree's leaf, mean scores, arm).
//! `outcome` holds the split criterion of the cross-fitted outcome trees behind AIPW rewards;
//! they reuse the same blocks, histograms, candidate loop and node tables.

pub mod binning;
pub mod block;
pub mod block_cache;
pub mod coarse;
pub mod columns;
pub mod config;
pub mod error;
pub mod feature_batch;
mod feature_ranks;
pub mod fixed_point;
pub mod forest;
pub mod histogram;
pub mod histogram_layout;
pub mod leaves;
pub mod node_table;
pub mod outcome;
pub mod pair;
pub mod pair_layout;
pub mod pair_record;
pub mod pair_search;
pub mod pool;
pub mod refine;
pub mod reply;
pub mod row_sample;
pub mod scoring;
mod simd;
pub mod split;
pub mod split_record;
mod tile_tree;

pub use error::{PolicyError, Result};

/// Bumped whenever an export's signature, a config field or a byte layout changes;
/// the JVM loader refuses a library whose version differs from its own.
pub const ABI_VERSION: i32 = 15;

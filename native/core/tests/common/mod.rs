//! Helpers shared by the integration tests and the benchmark (`#[path]`-included there): they build
//! kernel inputs directly, so they live here and not in the library's public API.

#![allow(dead_code)] // each test crate uses its own subset

use sparkpolicy_core::block::{Codes, TrainingBlock};
use sparkpolicy_core::node_table::TreeNode;

/// A leaf predicting `arm`, with its row count and per-arm values.
pub fn leaf_node(id: u32, arm: i32, count: i64, values: Vec<f64>) -> TreeNode {
    TreeNode {
        id,
        is_leaf: true,
        feature: -1,
        threshold: 0.0,
        threshold_bin: -1,
        missing_left: false,
        categorical: false,
        arm,
        count,
        values,
    }
}

/// A block of 1-byte codes (one column per feature, every code < 256) and row-major Γ, shift 0.
pub fn u8_block(codes: Vec<Vec<u16>>, gamma: Vec<i64>, n_arms: usize) -> TrainingBlock {
    let n_rows = codes.first().map_or(gamma.len() / n_arms.max(1), |c| c.len());
    let n_features = codes.len();
    let codes = Codes::U8(codes.into_iter().flatten().map(|c| u8::try_from(c).expect("a 1-byte code")).collect());
    TrainingBlock { n_rows, n_features, n_arms, shift: 0, codes, gamma, id: 0 }
}

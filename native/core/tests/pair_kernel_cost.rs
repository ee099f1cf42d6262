//! What the two-level search costs, measured, not asserted (ignored by default; run with
//! `cargo test --release -p sparkpolicy-core --test pair_kernel_cost -- --ignored --nocapture`).
//! One block of `PAIR_COST_ROWS` (default 200,000) rows × 20 features × 3 arms, 64 value bins + the
//! missing code, the root as the only frontier node, one chunk of all 20 root features: the pair
//! kernel's emit with 1 and 2 threads (in rows × F × F updates per second), then `best_subtree` over
//! the merged histogram; and, under the same conditions, the greedy kernel's emit over the same block
//! (rows × F updates), since a shared machine's load moves both alike.

mod common;

use sparkpolicy_core::config::{Chunk, KernelConfig, PairConfig, PairSplitConfig};
use sparkpolicy_core::histogram::HistogramKernel;
use sparkpolicy_core::node_table::NodeTable;
use sparkpolicy_core::pair::PairKernel;
use sparkpolicy_core::pair_search::best_subtree;
use std::time::Instant;

const FEATURES: usize = 20;
const ARMS: usize = 3;
const CODES: usize = 65;

#[test]
#[ignore]
fn pair_kernel_and_search_cost() {
    let rows: usize = std::env::var("PAIR_COST_ROWS").ok().and_then(|v| v.parse().ok()).unwrap_or(200_000);
    let mut state = 42u64;
    let mut next = move || {
        state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        state >> 33
    };
    let codes = (0..FEATURES).map(|_| (0..rows).map(|_| (next() % CODES as u64) as u16).collect()).collect();
    let gamma = (0..rows * ARMS).map(|_| (next() % (1 << 25)) as i64 - (1 << 24)).collect();
    let block = common::u8_block(codes, gamma, ARMS);
    let tree = NodeTable { n_arms: ARMS, nodes: vec![common::leaf_node(1, 0, 0, vec![0.0; ARMS])] };
    let chunk = Chunk { slot_start: 0, slot_end: 1, feature_start: 0, feature_end: FEATURES };
    let greedy = KernelConfig {
        n_arms: ARMS,
        codes_per_feature: vec![CODES; FEATURES],
        frontier: vec![1],
        chunks: vec![chunk],
        threads: 1,
        tag: String::new(),
        skip_rows: None,
        coarse_cuts: Vec::new(),
        row_sample: None,
        bounds: false,
    };
    let mut kernel = HistogramKernel::new(tree.clone(), greedy).unwrap();
    kernel.add_block(block.clone()).unwrap();
    let mut best = f64::INFINITY;
    for _ in 0..5 {
        let t = Instant::now();
        std::hint::black_box(kernel.emit(0).unwrap());
        best = best.min(t.elapsed().as_secs_f64());
    }
    println!(
        "greedy kernel, 1 thread: {rows} rows × {FEATURES} features in {best:.4} s = {:.0} M row×feature updates/s",
        (rows * FEATURES) as f64 / best / 1e6
    );
    let mut hist = Vec::new();
    for threads in [1, 2] {
        let config = PairConfig {
            n_arms: ARMS,
            codes_per_feature: vec![CODES; FEATURES],
            coarse_cuts: Vec::new(),
            frontier: vec![1],
            chunks: vec![chunk],
            threads,
            tag: String::new(),
            skip_rows: None,
        };
        let mut kernel = PairKernel::new(tree.clone(), config).unwrap();
        kernel.add_block(block.clone()).unwrap();
        let mut best = f64::INFINITY;
        for _ in 0..3 {
            let t = Instant::now();
            hist = kernel.emit(0).unwrap();
            best = best.min(t.elapsed().as_secs_f64());
        }
        let updates = (rows * FEATURES * FEATURES) as f64;
        println!(
            "pair kernel, {threads} thread(s): {rows} rows × {FEATURES}² features in {best:.3} s = {:.0} M row×feature² updates/s ({} MB of cells)",
            updates / best / 1e6,
            (hist.len() * 8) >> 20
        );
    }
    let config = PairSplitConfig {
        n_arms: ARMS,
        min_node_size: 1,
        feature_start: 0,
        feature_end: FEATURES,
        codes_per_feature: vec![CODES; FEATURES],
        categorical: Vec::new(),
        fine_codes: Vec::new(),
        coarse_cuts: Vec::new(),
    };
    let t = Instant::now();
    let result = best_subtree(&hist, &config).unwrap();
    println!(
        "best_subtree over {FEATURES} root features: {:.3} s, root {:?}",
        t.elapsed().as_secs_f64(),
        result.best.map(|c| (c.feature, c.threshold_bin))
    );
}

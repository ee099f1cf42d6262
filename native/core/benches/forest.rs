//! Throughput of the forest scorer (`CompiledForest::score_batch`), one core: the reference paper's
//! workload shape, 50 complete depth-7 trees over 4 arms and 16 features, on 4,096-row batches (the
//! default `scoringBatchSize`) of uniform values without nulls; and one depth-3 tree for comparison.
//! Throughput is counted in rows. `cargo bench -p sparkpolicy-core --bench forest`.

use arrow_array::{ArrayRef, Float64Array, RecordBatch};
use criterion::{Criterion, Throughput};
use sparkpolicy_core::forest::CompiledForest;
use sparkpolicy_core::node_table::{NodeTable, TreeNode};
use sparkpolicy_core::row_sample::mix;
use sparkpolicy_core::scoring::CompiledModel;
use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

const FEATURES: usize = 16;
const ARMS: usize = 4;
const ROWS: usize = 4096;

/// Deterministic pseudo-random numbers: the crate's splitmix64 finalizer over a counter.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 += 1;
        mix(self.0)
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// A complete tree of `depth` with random features and thresholds.
fn tree(depth: u32, rng: &mut SplitMix) -> NodeTable {
    let mut nodes = Vec::new();
    for id in 1..(1u32 << depth) {
        nodes.push(TreeNode {
            id,
            is_leaf: false,
            feature: (rng.next() % FEATURES as u64) as i32,
            threshold: rng.unit(),
            threshold_bin: 0,
            missing_left: rng.next() & 1 == 0,
            categorical: false,
            arm: -1,
            count: 2,
            values: vec![0.0; ARMS],
        });
    }
    for id in (1u32 << depth)..(2u32 << depth) {
        let values: Vec<f64> = (0..ARMS).map(|_| rng.unit()).collect();
        let arm = (0..ARMS).fold(0, |b, a| if values[a] > values[b] { a } else { b }) as i32;
        nodes.push(TreeNode {
            id,
            is_leaf: true,
            feature: -1,
            threshold: 0.0,
            threshold_bin: -1,
            arm,
            count: 1,
            values,
            ..nodes[0].clone()
        });
    }
    NodeTable { n_arms: ARMS, nodes }
}

fn main() {
    let mut rng = SplitMix(42);
    let cols: Vec<(String, ArrayRef)> = (0..FEATURES)
        .map(|f| (format!("x{f}"), Arc::new(Float64Array::from((0..ROWS).map(|_| rng.unit()).collect::<Vec<_>>())) as ArrayRef))
        .collect();
    let batch = RecordBatch::try_from_iter(cols).unwrap();
    let forest_trees: Vec<NodeTable> = (0..50).map(|_| tree(7, &mut rng)).collect();
    let forest = CompiledForest::compile(&forest_trees, FEATURES, ARMS).unwrap();
    let tree3 = CompiledModel::compile(&tree(3, &mut rng), FEATURES, ARMS).unwrap();
    let mut c = Criterion::default().warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(5)).configure_from_args();
    let mut group = c.benchmark_group("forest_scoring");
    group.throughput(Throughput::Elements(ROWS as u64));
    group.bench_function("forest_50x7_4arms", |b| b.iter(|| black_box(forest.score_batch(black_box(&batch)).unwrap())));
    group.bench_function("tree_depth3", |b| b.iter(|| black_box(tree3.score_batch(black_box(&batch)).unwrap())));
    group.finish();
    c.final_summary();
}

//! The compiled scorers must give the same leaf, arm and scores as a direct walk of the node table:
//! a tree's, and a forest's (each tree's leaf, the mean of their values in tree order, the first best arm).

mod common;

use arrow_array::{ArrayRef, Float64Array, RecordBatch};
use proptest::prelude::*;
use sparkpolicy_core::forest::CompiledForest;
use sparkpolicy_core::node_table::{NodeTable, TreeNode};
use sparkpolicy_core::scoring::CompiledModel;
use std::collections::HashMap;
use std::sync::Arc;

const N_FEATURES: usize = 4;
const N_ARMS: usize = 3;

/// A random tree of at most `depth` levels: each node above the bottom splits with probability about
/// 3/4, so leaves sit at every depth; a split is numeric or (one in four) categorical, on values from a
/// small grid, so rows land on thresholds and codes.
fn tree(depth: u32) -> impl Strategy<Value = NodeTable> {
    let n_ids = (1usize << (depth + 1)) - 1;
    let splits = prop::collection::vec((0u8..4, 0..N_FEATURES as i32, 0i32..6, any::<bool>(), 0u8..4), n_ids);
    let leaves = prop::collection::vec((0..N_ARMS as i32, prop::collection::vec(-5.0f64..5.0, N_ARMS)), n_ids);
    (splits, leaves).prop_map(move |(splits, leaves)| {
        let mut nodes = Vec::new();
        let mut open = vec![1u32];
        while let Some(id) = open.pop() {
            let i = id as usize - 1;
            let (grow, f, t, m, kind) = splits[i];
            if id.ilog2() < depth && (id == 1 || grow > 0) {
                let categorical = kind == 0;
                nodes.push(TreeNode {
                    id,
                    is_leaf: false,
                    feature: f,
                    threshold: if categorical { t as f64 } else { t as f64 * 0.5 },
                    threshold_bin: t,
                    missing_left: m,
                    categorical,
                    arm: -1,
                    count: 0,
                    values: vec![0.0; N_ARMS],
                });
                open.extend([2 * id, 2 * id + 1]);
            } else {
                let (arm, values) = leaves[i].clone();
                nodes.push(common::leaf_node(id, arm, 1, values));
            }
        }
        NodeTable { n_arms: N_ARMS, nodes }
    })
}

fn walk(table: &NodeTable, row: &[Option<f64>]) -> u32 {
    let by_id: HashMap<u32, &TreeNode> = table.nodes.iter().map(|n| (n.id, n)).collect();
    let mut node = by_id[&1];
    while !node.is_leaf {
        let left = match row[node.feature as usize] {
            Some(x) if !x.is_nan() => {
                if node.categorical {
                    x == node.threshold
                } else {
                    x <= node.threshold
                }
            }
            _ => node.missing_left,
        };
        node = by_id[&(2 * node.id + if left { 0 } else { 1 })];
    }
    node.id
}

fn value() -> impl Strategy<Value = Option<f64>> {
    prop_oneof![
        8 => (0i32..7).prop_map(|v| Some(v as f64 * 0.5 - 0.25 * (v % 2) as f64)),
        2 => (0i32..6).prop_map(|v| Some(v as f64)),
        1 => Just(Some(f64::INFINITY)),
        1 => Just(Some(f64::NEG_INFINITY)),
        1 => Just(None),
        1 => Just(Some(f64::NAN))
    ]
}

fn batch_of(rows: &[Vec<Option<f64>>]) -> RecordBatch {
    let cols: Vec<(String, ArrayRef)> = (0..N_FEATURES)
        .map(|f| (format!("x{f}"), Arc::new(Float64Array::from(rows.iter().map(|r| r[f]).collect::<Vec<_>>())) as ArrayRef))
        .collect();
    RecordBatch::try_from_iter(cols).unwrap()
}

proptest! {
    #[test]
    fn compiled_scorer_equals_direct_walk(table in (1u32..5).prop_flat_map(tree), rows in prop::collection::vec(prop::collection::vec(value(), N_FEATURES), 1..200)) {
        let batch = batch_of(&rows);
        let model = CompiledModel::compile(&table, N_FEATURES, N_ARMS).unwrap();
        let out = model.score_batch(&batch).unwrap();
        for (r, row) in rows.iter().enumerate() {
            let leaf = walk(&table, row);
            let node = table.nodes.iter().find(|n| n.id == leaf).unwrap();
            prop_assert_eq!(out.leaf[r] as u32, leaf);
            prop_assert_eq!(out.action[r], node.arm);
            prop_assert_eq!(model.leaf_values(leaf as usize), &node.values[..]);
        }
        let leaves: Vec<u32> = model.leaf_ids().map(|id| id as u32).collect();
        let mut expected: Vec<u32> = table.nodes.iter().filter(|n| n.is_leaf).map(|n| n.id).collect();
        expected.sort_unstable();
        prop_assert_eq!(leaves, expected);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]
    /// Up to 1,300 rows: batches span several of the forest's row tiles.
    #[test]
    fn compiled_forest_equals_direct_walks(
        tables in prop::collection::vec((0u32..5).prop_flat_map(tree), 1..9),
        rows in prop::collection::vec(prop::collection::vec(value(), N_FEATURES), 1..1300)
    ) {
        let forest = CompiledForest::compile(&tables, N_FEATURES, N_ARMS).unwrap();
        let out = forest.score_batch(&batch_of(&rows)).unwrap();
        let t_count = tables.len();
        prop_assert_eq!((out.n_trees, out.n_arms), (t_count, N_ARMS));
        for (r, row) in rows.iter().enumerate() {
            let mut sums = [0.0f64; N_ARMS];
            for (t, table) in tables.iter().enumerate() {
                let leaf = walk(table, row);
                prop_assert_eq!(out.leaves[r * t_count + t] as u32, leaf);
                let node = table.nodes.iter().find(|n| n.id == leaf).unwrap();
                for (s, v) in sums.iter_mut().zip(&node.values) {
                    *s += v;
                }
            }
            let means: Vec<f64> = sums.iter().map(|s| s / t_count as f64).collect();
            prop_assert_eq!(&out.scores[r * N_ARMS..(r + 1) * N_ARMS], &means[..]);
            let best = (0..N_ARMS).fold(0, |b, a| if means[a] > means[b] { a } else { b });
            prop_assert_eq!(out.action[r], best as i32);
        }
    }
}

#[test]
fn feature_index_out_of_range_is_rejected() {
    let mut t = NodeTable { n_arms: 2, nodes: vec![] };
    t.nodes.push(TreeNode {
        id: 1,
        is_leaf: false,
        feature: 9,
        threshold: 0.0,
        threshold_bin: 0,
        missing_left: false,
        categorical: false,
        arm: -1,
        count: 2,
        values: vec![0.0; 2],
    });
    for id in [2, 3] {
        t.nodes.push(common::leaf_node(id, 0, 1, vec![0.0; 2]));
    }
    let err = CompiledModel::compile(&t, 3, 2).unwrap_err().to_string();
    assert!(err.contains("feature index 9") && err.contains("3 feature columns"), "{err}");
}

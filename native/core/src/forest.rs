//! A policy forest compiled for scoring: its `TileTree`s, immutable and shared by every
//! task of an executor. A forest crosses JNI as an IPC stream of one node-table batch per tree, in
//! tree order (`node_table`'s columns, the same K value columns in every batch).
//!
//! Prediction (the JVM's `ml/model/ForestVote.scala` defines it and this must equal it bit for bit):
//! per arm, the trees' leaf values summed in tree order from 0.0, then divided by the number of
//! trees; the action is the first arm with the largest mean.
//!
//! The walk: rows are taken a tile at a time, and every tree walks the whole tile level by level
//! (`TileTree::walk`) before the next tile, so the tile's feature values stay in cache across
//! all the trees while each tree's steps, a few KB, stay in L1. Within one tree a tile's rows are
//! independent, so their dependent loads overlap (the tree scorer's reason for level order).

use crate::error::try_zeroed;
use crate::node_table::NodeTable;
use crate::scoring::ScoringRows;
use crate::tile_tree::{Tile, TileTree};
use crate::{invalid, Result};
use arrow_array::RecordBatch;

/// Rows walked through every tree before the next: as many as keep the tile's values within 32 KB, an L1
/// data cache (256 rows of 16 features; 16 to 512 rows). At 16 features 256-row tiles ran about a fifth
/// faster than 512-row (64 KB) ones in `benches/forest.rs`.
fn tile_rows(n_features: usize) -> usize {
    (4_096 / n_features.max(1)).clamp(16, 512)
}

#[derive(Debug, Clone)]
pub struct CompiledForest {
    pub n_features: usize,
    pub n_arms: usize,
    tile_rows: usize,
    trees: Vec<TileTree>,
}

/// Outputs of one scored batch: per row its action, its K mean scores (`scores[r * K + a]`) and
/// each tree's leaf heap id (`leaves[r * T + t]`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ForestScores {
    pub n_arms: usize,
    pub n_trees: usize,
    pub action: Vec<i32>,
    pub scores: Vec<f64>,
    pub leaves: Vec<i32>,
}

impl CompiledForest {
    pub fn compile(tables: &[NodeTable], n_features: usize, n_arms: usize) -> Result<CompiledForest> {
        if tables.is_empty() {
            return invalid!("a forest needs at least one tree; the forest stream holds no node table");
        }
        let tile_rows = tile_rows(n_features);
        let trees = tables
            .iter()
            .enumerate()
            .map(|(t, table)| TileTree::compile(table, n_features, n_arms, tile_rows).map_err(|e| e.context(&format!("forest tree {t}"))))
            .collect::<Result<Vec<_>>>()?;
        Ok(CompiledForest { n_features, n_arms, tile_rows, trees })
    }

    pub fn n_trees(&self) -> usize {
        self.trees.len()
    }

    /// Scores a batch whose first `n_features` columns are the features (Float64, nulls = missing).
    pub fn score_batch(&self, batch: &RecordBatch) -> Result<ForestScores> {
        let rows = ScoringRows::of(batch, self.n_features)?;
        let (n, k, t_count) = (rows.n, self.n_arms, self.trees.len());
        let mut scores: Vec<f64> = try_zeroed(n * k, "forest scores")?;
        let mut leaves: Vec<i32> = try_zeroed(n * t_count, "forest leaves")?;
        let stride = self.tile_rows;
        let mut ids = vec![0u32; stride.min(n)];
        let mut tile = Tile::new(self.n_features, stride);
        for from in (0..n).step_by(stride) {
            let len = stride.min(n - from);
            let ids = &mut ids[..len];
            tile.load(&rows, from, len);
            for (t, tree) in self.trees.iter().enumerate() {
                tree.walk(&tile, ids);
                for (i, &id) in ids.iter().enumerate() {
                    leaves[(from + i) * t_count + t] = id as i32;
                }
                add_leaf_values(&mut scores[from * k..(from + len) * k], ids, tree.values(), k);
            }
        }
        let trees = t_count as f64;
        let mut action = Vec::with_capacity(n);
        for row in scores.chunks_exact_mut(k) {
            let mut best = 0;
            for a in 0..k {
                row[a] /= trees;
                if row[a] > row[best] {
                    best = a;
                }
            }
            action.push(best as i32);
        }
        Ok(ForestScores { n_arms: k, n_trees: t_count, action, scores, leaves })
    }
}

/// `acc[i * k + a] += values[ids[i] * k + a]`: each row's leaf values added to its sums, unrolled for
/// the usual arm counts.
fn add_leaf_values(acc: &mut [f64], ids: &[u32], values: &[f64], k: usize) {
    fn add<const K: usize>(acc: &mut [f64], ids: &[u32], values: &[f64]) {
        for (row, &id) in acc.chunks_exact_mut(K).zip(ids) {
            let v = &values[id as usize * K..][..K];
            for a in 0..K {
                row[a] += v[a];
            }
        }
    }
    match k {
        2 => add::<2>(acc, ids, values),
        3 => add::<3>(acc, ids, values),
        4 => add::<4>(acc, ids, values),
        _ => {
            for (row, &id) in acc.chunks_exact_mut(k).zip(ids) {
                for (s, v) in row.iter_mut().zip(&values[id as usize * k..][..k]) {
                    *s += v;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::node_table::tests::{leaf, split};
    use arrow_array::{ArrayRef, Float64Array};
    use std::sync::Arc;

    fn stump(feature: i32, threshold: f64, left: Vec<f64>, right: Vec<f64>) -> NodeTable {
        let arm = |v: &[f64]| if v[1] > v[0] { 1 } else { 0 };
        NodeTable {
            n_arms: 2,
            nodes: vec![split(1, feature, threshold, 0, true, 2), leaf(2, arm(&left), left), leaf(3, arm(&right), right)],
        }
    }

    #[test]
    fn scores_are_the_mean_of_the_trees_leaf_values_summed_in_tree_order() {
        let trees = [stump(0, 0.5, vec![1.0, 0.0], vec![0.0, 3.0]), stump(1, 0.0, vec![0.1, 0.2], vec![0.7, 0.3])];
        let forest = CompiledForest::compile(&trees, 2, 2).unwrap();
        let x0: ArrayRef = Arc::new(Float64Array::from(vec![Some(0.0), Some(1.0), None]));
        let x1: ArrayRef = Arc::new(Float64Array::from(vec![Some(1.0), Some(-1.0), Some(5.0)]));
        let batch = RecordBatch::try_from_iter([("x0", x0), ("x1", x1)]).unwrap();
        let out = forest.score_batch(&batch).unwrap();
        assert_eq!(out.leaves, vec![2, 3, 3, 2, 2, 3]);
        let mean = |a: f64, b: f64| (0.0 + a + b) / 2.0;
        assert_eq!(out.scores, vec![mean(1.0, 0.7), mean(0.0, 0.3), mean(0.0, 0.1), mean(3.0, 0.2), mean(1.0, 0.7), mean(0.0, 0.3)]);
        assert_eq!(out.action, vec![0, 1, 0]);
    }

    #[test]
    fn ties_go_to_the_lowest_arm_and_bad_trees_are_named() {
        let even = stump(0, 0.5, vec![1.0, 1.0], vec![1.0, 1.0]);
        let forest = CompiledForest::compile(std::slice::from_ref(&even), 1, 2).unwrap();
        let batch = RecordBatch::try_from_iter([("x0", Arc::new(Float64Array::from(vec![0.0, 1.0])) as ArrayRef)]).unwrap();
        assert_eq!(forest.score_batch(&batch).unwrap().action, vec![0, 0]);
        let far = stump(3, 0.5, vec![1.0, 0.0], vec![0.0, 1.0]);
        let err = CompiledForest::compile(&[even, far], 2, 2).unwrap_err().to_string();
        assert!(err.contains("forest tree 1") && err.contains("feature index 3"), "{err}");
        assert!(CompiledForest::compile(&[], 2, 2).unwrap_err().to_string().contains("at least one tree"));
    }
}

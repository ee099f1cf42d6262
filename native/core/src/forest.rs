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
use crate::feature_ranks::FeatureRanks;
use crate::node_table::NodeTable;
use crate::scoring::ScoringRows;
use crate::simd::Kernel;
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
    /// Every tree's split values per feature: `None` when they cannot be ranked (a NaN threshold).
    ranks: Option<FeatureRanks>,
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
        // Out-of-range features are `CompiledModel::compile`'s error, named per tree below.
        let ranks = FeatureRanks::of(tables, n_features);
        let trees = tables
            .iter()
            .enumerate()
            .map(|(t, table)| {
                TileTree::compile(table, n_features, n_arms, tile_rows, ranks.as_ref()).map_err(|e| e.context(&format!("forest tree {t}")))
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(CompiledForest { n_features, n_arms, tile_rows, ranks, trees })
    }

    pub fn n_trees(&self) -> usize {
        self.trees.len()
    }

    /// Scores a batch whose first `n_features` columns are the features (Float64, nulls = missing).
    pub fn score_batch(&self, batch: &RecordBatch) -> Result<ForestScores> {
        self.score(batch, true, true)
    }

    /// `score_batch`, with each row's T leaves only when `with_leaves` (else `leaves` is empty: a query that does
    /// not read `policy_leaves` skips writing T ints a row here and copying them to the JVM).
    pub fn score_batch_with(&self, batch: &RecordBatch, with_leaves: bool) -> Result<ForestScores> {
        self.score(batch, true, with_leaves)
    }

    /// `score_batch`, its tile loop compiled for the CPU's widest vectors (`simd::widest`) or not: the
    /// same results either way, which the tests check.
    fn score(&self, batch: &RecordBatch, widest: bool, with_leaves: bool) -> Result<ForestScores> {
        let rows = ScoringRows::of(batch, self.n_features)?;
        let (n, k, t_count) = (rows.n, self.n_arms, self.trees.len());
        let mut scores: Vec<f64> = try_zeroed(n * k, "forest scores")?;
        // Filled in row order by the walk, so reserved rather than zeroed (a batch's leaves are T ints a row).
        let mut leaves: Vec<i32> = Vec::new();
        if with_leaves {
            leaves
                .try_reserve_exact(n * t_count)
                .map_err(|_| crate::error::PolicyError::InvalidInput(format!("cannot allocate forest leaves: {} ints", n * t_count)))?;
        }
        let tiles = WalkTiles { forest: self, rows: &rows, scores: &mut scores, leaves: with_leaves.then_some(&mut leaves) };
        if widest {
            crate::simd::widest(tiles);
        } else {
            tiles.run();
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

/// Every tile of rows through every tree: each row's leaf per tree into `leaves` (when asked for), and its
/// trees' leaf values summed in tree order into `scores`.
struct WalkTiles<'a> {
    forest: &'a CompiledForest,
    rows: &'a ScoringRows<'a>,
    scores: &'a mut [f64],
    leaves: Option<&'a mut Vec<i32>>,
}

impl Kernel for WalkTiles<'_> {
    type Out = ();

    #[inline(always)]
    fn run(self) {
        let WalkTiles { forest: f, rows, scores, mut leaves } = self;
        let (n, k, t_count) = (rows.n, f.n_arms, f.trees.len());
        let stride = f.tile_rows;
        // A tile's leaves tree by tree (`tile_leaves[t * stride + i]`), copied row by row into `leaves` after
        // the tile's last tree: writing `leaves` tree by tree would touch a cache line per row per tree.
        let mut tile_leaves = vec![0u32; t_count * stride.min(n)];
        let values = f.trees.iter().any(TileTree::needs_values);
        let mut tile = Tile::new(f.n_features, stride, f.ranks.is_some(), values);
        for from in (0..n).step_by(stride) {
            let len = stride.min(n - from);
            tile.load(rows, from, len, f.ranks.as_ref());
            for (t, tree) in f.trees.iter().enumerate() {
                let ids = &mut tile_leaves[t * len..(t + 1) * len];
                tree.walk(&tile, ids);
                add_leaf_values(&mut scores[from * k..(from + len) * k], ids, tree.values(), k);
            }
            if let Some(leaves) = leaves.as_deref_mut() {
                for i in 0..len {
                    leaves.extend((0..t_count).map(|t| tile_leaves[t * len + i] as i32));
                }
            }
        }
    }
}

/// `acc[i * k + a] += values[ids[i] * k + a]`: each row's leaf values added to its sums, unrolled for
/// the usual arm counts.
#[inline(always)]
fn add_leaf_values(acc: &mut [f64], ids: &[u32], values: &[f64], k: usize) {
    #[inline(always)]
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

    /// A path of `depth` splits, numeric and categorical in turn, missing values left and right.
    fn path(depth: u32) -> NodeTable {
        let mut nodes = Vec::new();
        let mut id = 1;
        for d in 0..depth {
            let mut s = split(id, (d % 3) as i32, (d % 4) as f64, 0, d % 3 == 0, 2);
            s.categorical = d % 2 == 1;
            nodes.push(s);
            let (next, off) = if d % 2 == 0 { (2 * id, 2 * id + 1) } else { (2 * id + 1, 2 * id) };
            nodes.push(leaf(off, (d % 2) as i32, vec![d as f64, 1.0 / (d + 1) as f64]));
            id = next;
        }
        nodes.push(leaf(id, 0, vec![0.5, 0.25]));
        NodeTable { n_arms: 2, nodes }
    }

    #[test]
    fn widest_vectors_portable_loop_and_each_trees_own_walk_agree() {
        let grid = [
            None,
            Some(f64::NAN),
            Some(f64::NEG_INFINITY),
            Some(-0.0),
            Some(0.0),
            Some(0.5),
            Some(1.0),
            Some(2.0),
            Some(3.0),
            Some(f64::INFINITY),
        ];
        let column = |f: usize| -> ArrayRef {
            Arc::new(Float64Array::from((0..1000).map(|r| grid[(r * (f + 3) + r / 7) % grid.len()]).collect::<Vec<_>>()))
        };
        let batch = RecordBatch::try_from_iter((0..3).map(|f| (format!("x{f}"), column(f)))).unwrap();
        // Shallow trees take the padded walk on rank codes; the 14-deep one keeps the scorer's walk.
        let trees: Vec<NodeTable> = [0, 1, 5, 7, 14, 3].iter().map(|&d| path(d)).collect();
        let forest = CompiledForest::compile(&trees, 3, 2).unwrap();
        let (wide, portable) = (forest.score(&batch, true, true).unwrap(), forest.score(&batch, false, true).unwrap());
        assert_eq!(wide, portable);
        // Without leaves: the same actions and scores, no leaves.
        let bare = forest.score_batch_with(&batch, false).unwrap();
        assert_eq!((&bare.action, &bare.scores, bare.leaves.len()), (&wide.action, &wide.scores, 0));
        for (t, tree) in trees.iter().enumerate() {
            let own = crate::scoring::CompiledModel::compile(tree, 3, 2).unwrap().score_batch(&batch).unwrap().leaf;
            let got: Vec<i32> = (0..batch.num_rows()).map(|r| wide.leaves[r * trees.len() + t]).collect();
            assert_eq!(got, own, "tree {t}");
        }
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

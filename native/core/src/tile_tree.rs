//! A forest's tree compiled for walking tiles of rows: the scorer's rule (`scoring.rs`: left when
//! `x <= threshold`, or `x == threshold` for a categorical split; a missing value to the learned side)
//! in a form with fewer instructions per step, since a forest takes tens of steps per row per tree.
//!
//! A tree no deeper than `DENSE_MAX_DEPTH` is padded to a complete tree of its depth: a leaf above the
//! bottom becomes a pass-through step that always goes left, so every row takes `depth` steps and the
//! next id is `2 * id + right`, computed rather than loaded; a bottom slot maps back to the leaf it
//! stands for. One step reads one 24-byte record and one tile value:
//!
//! `right = (x > hi) | (x < lo) | (x is NaN & missing_right)`
//!
//! A numeric split has `hi = threshold`, `lo = -inf` (right exactly when `!(x <= threshold)` for a
//! non-NaN x); a categorical one `hi = lo = code` (right exactly when `x != code`); a pass-through
//! `hi = +inf`, `lo = -inf`, never missing right. A deeper tree keeps the scorer's own walk.

use crate::node_table::NodeTable;
use crate::scoring::{CompiledModel, ScoringRows};
use crate::Result;
use arrow_array::Array;

/// Deepest tree padded to complete: 2^13 records of 24 bytes (192 KB) at most.
const DENSE_MAX_DEPTH: usize = 12;

/// Rows of a batch copied feature by feature into one flat buffer, nulls as NaN: row r's value of
/// feature f is `x[f * stride + r]`, for walks that read the same rows many times (a forest's trees).
pub(crate) struct Tile {
    pub len: usize,
    stride: usize,
    /// `x.len() - 1`; the length is a power of two, so a masked index needs no bounds check.
    x_mask: usize,
    x: Vec<f64>,
}

impl Tile {
    pub fn new(n_features: usize, stride: usize) -> Tile {
        let len = (n_features * stride).max(1).next_power_of_two();
        Tile { len: 0, stride, x_mask: len - 1, x: vec![0.0; len] }
    }

    /// Loads rows `from .. from + len` of `rows` (`len` at most the stride).
    pub fn load(&mut self, rows: &ScoringRows, from: usize, len: usize) {
        self.len = len;
        for f in 0..rows.raw.len() {
            let dst = &mut self.x[f * self.stride..f * self.stride + len];
            dst.copy_from_slice(&rows.raw[f][from..from + len]);
            let col = rows.cols[f];
            if col.null_count() > 0 {
                for (r, x) in dst.iter_mut().enumerate() {
                    if col.is_null(from + r) {
                        *x = f64::NAN;
                    }
                }
            }
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct DenseStep {
    hi: f64,
    lo: f64,
    /// `feature * stride`: where the step's feature column starts in a tile.
    offset: u32,
    missing_right: u32,
}

const PASS: DenseStep = DenseStep { hi: f64::INFINITY, lo: f64::NEG_INFINITY, offset: 0, missing_right: 0 };

#[derive(Debug, Clone)]
struct Dense {
    depth: usize,
    /// Heap-ordered steps of the padded tree, ids `1 .. 2^depth`.
    steps: Vec<DenseStep>,
    /// Bottom slot `s` (id `2^depth + s`) → the heap id of the leaf it stands for.
    leaf: Vec<u32>,
}

#[derive(Debug, Clone)]
pub(crate) struct TileTree {
    model: CompiledModel,
    dense: Option<Dense>,
}

impl TileTree {
    /// Compiles a tree for tiles of `stride` rows.
    pub fn compile(table: &NodeTable, n_features: usize, n_arms: usize, stride: usize) -> Result<TileTree> {
        let model = CompiledModel::compile(table, n_features, n_arms)?;
        let depth = table.nodes.iter().map(|n| n.id).max().unwrap_or(1).ilog2() as usize;
        let dense = if depth <= DENSE_MAX_DEPTH && (n_features * stride) as u64 <= u32::MAX as u64 {
            Some(Dense::pad(table, depth, stride))
        } else {
            None
        };
        Ok(TileTree { model, dense })
    }

    /// Every id's K values, `values()[id * K + a]` (a leaf's mean Γ for arm a; zeros elsewhere).
    pub fn values(&self) -> &[f64] {
        self.model.values()
    }

    /// Walks the tile's rows to their leaves, writing each one's leaf heap id into `ids` (`tile.len` of them).
    pub fn walk(&self, tile: &Tile, ids: &mut [u32]) {
        let Some(d) = &self.dense else {
            return self.model.walk_values(ids, |f, r| tile.x[f * tile.stride + r]);
        };
        ids.fill(1);
        descend(&d.steps, d.depth, &tile.x, tile.x_mask, ids);
        let bottom = 1u32 << d.depth;
        for id in ids.iter_mut() {
            *id = d.leaf[(*id - bottom) as usize];
        }
    }
}

/// Every row of the tile `depth` levels down the padded steps (rows independent within a level, so the
/// loop runs many rows' loads at once and, where AVX2 is present, four rows to a vector).
fn descend(steps: &[DenseStep], depth: usize, x: &[f64], x_mask: usize, ids: &mut [u32]) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the only unsafe in the crate: `descend_avx2` needs AVX2, detected on this CPU just above.
        return unsafe { descend_avx2(steps, depth, x, x_mask, ids) };
    }
    descend_body(steps, depth, x, x_mask, ids)
}

/// `descend_body` compiled with AVX2, so the row loop vectorizes with gathers.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn descend_avx2(steps: &[DenseStep], depth: usize, x: &[f64], x_mask: usize, ids: &mut [u32]) {
    descend_body(steps, depth, x, x_mask, ids)
}

#[inline(always)]
fn descend_body(steps: &[DenseStep], depth: usize, x: &[f64], x_mask: usize, ids: &mut [u32]) {
    let mask = steps.len() - 1;
    let steps = &steps[..=mask];
    let x = &x[..=x_mask];
    for _ in 0..depth {
        for (r, id) in ids.iter_mut().enumerate() {
            let s = &steps[*id as usize & mask];
            let x = x[(s.offset as usize + r) & x_mask];
            let right = (x > s.hi) | (x < s.lo) | (x.is_nan() & (s.missing_right != 0));
            *id = 2 * *id + right as u32;
        }
    }
}

impl Dense {
    fn pad(table: &NodeTable, depth: usize, stride: usize) -> Dense {
        let size = 1usize << depth;
        let mut steps = vec![PASS; size];
        let mut leaf = vec![0u32; size];
        // `stands_for[id]`: the table leaf a padded id lies under (0 while none).
        let mut stands_for = vec![0u32; 2 * size];
        let mut nodes: Vec<_> = table.nodes.iter().collect();
        nodes.sort_by_key(|n| n.id);
        for n in nodes {
            let id = n.id as usize;
            if n.is_leaf {
                stands_for[id] = n.id;
            } else {
                let (hi, lo) = if n.categorical { (n.threshold, n.threshold) } else { (n.threshold, f64::NEG_INFINITY) };
                steps[id] = DenseStep { hi, lo, offset: (n.feature as usize * stride) as u32, missing_right: (!n.missing_left) as u32 };
            }
        }
        // Parents precede children in heap order: a leaf's mark flows down its left-going pass-throughs.
        for id in 2..2 * size {
            if stands_for[id] == 0 {
                stands_for[id] = stands_for[id / 2];
            }
        }
        leaf.copy_from_slice(&stands_for[size..]);
        Dense { depth, steps, leaf }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::node_table::tests::{leaf, split};
    use crate::node_table::TreeNode;
    use arrow_array::{ArrayRef, Float64Array, RecordBatch};
    use std::sync::Arc;

    /// A path of `depth` splits down alternating sides, numeric and categorical in turn, over 2 features.
    fn path(depth: u32) -> NodeTable {
        let mut nodes: Vec<TreeNode> = Vec::new();
        let mut id = 1;
        for d in 0..depth {
            let mut s = split(id, (d % 2) as i32, (d % 5) as f64, d as i32, d % 3 == 0, 2);
            s.categorical = d % 2 == 1;
            nodes.push(s);
            let (next, off) = if d % 2 == 0 { (2 * id, 2 * id + 1) } else { (2 * id + 1, 2 * id) };
            nodes.push(leaf(off, (d % 2) as i32, vec![d as f64, -(d as f64)]));
            id = next;
        }
        nodes.push(leaf(id, 0, vec![0.5, 0.5]));
        NodeTable { n_arms: 2, nodes }
    }

    fn rows() -> RecordBatch {
        let grid = [None, Some(f64::NAN), Some(f64::NEG_INFINITY), Some(-1.0), Some(0.0), Some(1.0), Some(2.5), Some(3.0), Some(4.0)];
        let pairs: Vec<(Option<f64>, Option<f64>)> = grid.iter().flat_map(|&a| grid.iter().map(move |&b| (a, b))).collect();
        let x0: ArrayRef = Arc::new(Float64Array::from(pairs.iter().map(|p| p.0).collect::<Vec<_>>()));
        let x1: ArrayRef = Arc::new(Float64Array::from(pairs.iter().map(|p| p.1).collect::<Vec<_>>()));
        RecordBatch::try_from_iter([("x0", x0), ("x1", x1)]).unwrap()
    }

    /// Leaf ids of every row from the dense walk (when compiled dense) and from the scorer's own walk.
    fn both_walks(table: &NodeTable) -> (bool, Vec<u32>, Vec<u32>) {
        let batch = rows();
        let scoring = ScoringRows::of(&batch, 2).unwrap();
        let mut tile = Tile::new(2, batch.num_rows());
        tile.load(&scoring, 0, batch.num_rows());
        let tree = TileTree::compile(table, 2, 2, batch.num_rows()).unwrap();
        let fallback = TileTree { model: tree.model.clone(), dense: None };
        let (mut a, mut b) = (vec![0; batch.num_rows()], vec![0; batch.num_rows()]);
        tree.walk(&tile, &mut a);
        fallback.walk(&tile, &mut b);
        if let Some(d) = &tree.dense {
            // The portable loop, whatever `walk` dispatched to on this CPU.
            let mut c = vec![1; batch.num_rows()];
            descend_body(&d.steps, d.depth, &tile.x, tile.x_mask, &mut c);
            let c: Vec<u32> = c.iter().map(|&id| d.leaf[(id - (1 << d.depth)) as usize]).collect();
            assert_eq!(c, a, "portable and dispatched descents");
        }
        let expected = CompiledModel::compile(table, 2, 2).unwrap().score_batch(&batch).unwrap().leaf;
        assert_eq!(b, expected.iter().map(|&l| l as u32).collect::<Vec<_>>());
        (tree.dense.is_some(), a, b)
    }

    #[test]
    fn padded_walk_equals_the_scorers_walk_on_ragged_trees_with_categorical_splits() {
        for depth in [0, 1, 2, 5, DENSE_MAX_DEPTH as u32] {
            let (dense, a, b) = both_walks(&path(depth));
            assert!(dense, "depth {depth} is padded");
            assert_eq!(a, b, "depth {depth}");
        }
    }

    #[test]
    fn a_tree_deeper_than_the_padding_limit_keeps_the_scorers_walk() {
        let (dense, a, b) = both_walks(&path(DENSE_MAX_DEPTH as u32 + 2));
        assert!(!dense);
        assert_eq!(a, b);
        assert!(a.iter().any(|&id| id >= 1 << DENSE_MAX_DEPTH), "some rows reach below the padding limit");
    }
}

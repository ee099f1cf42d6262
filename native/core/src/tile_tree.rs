//! A forest's tree compiled for walking tiles of rows: the scorer's rule (`scoring.rs`: left when
//! `x <= threshold`, or `x == threshold` for a categorical split; a missing value to the learned side)
//! in a form with fewer instructions per step, since a forest takes tens of steps per row per tree.
//!
//! A tree no deeper than `DENSE_MAX_DEPTH` is padded to a complete tree of its depth: a leaf above the
//! bottom becomes a pass-through step that always goes left, so every row takes `depth` steps and the
//! next id is `2 * id + right`, computed rather than loaded; a bottom slot maps back to the leaf it
//! stands for. The padded walk reads rank codes, not doubles (`feature_ranks.rs`: a split on value t
//! sends left the codes `lo ..= hi`, a missing value is code 0): one step reads two 4-byte fields and
//! one tile code,
//!
//! `right = (q < lo) | (q > hi)`, flipped when `q == 0` and the split sends missing values left,
//!
//! where `lo` is 1 for a numeric split and `hi` for a categorical one. A pass-through is numeric with
//! the largest `hi` and sends missing values left. A deeper tree, or a forest whose split values cannot
//! be ranked, keeps the scorer's own walk over the tile's doubles.

use crate::feature_ranks::FeatureRanks;
use crate::node_table::NodeTable;
use crate::scoring::{CompiledModel, ScoringRows};
use crate::Result;
use arrow_array::Array;

/// Deepest tree padded to complete: 2^12 steps of 8 bytes (32 KB) at most.
const DENSE_MAX_DEPTH: usize = 12;

/// The flag bits of `Dense::offset`: the split sends missing values (code 0) left; it is categorical
/// (left codes `hi ..= hi`, not `1 ..= hi`). The bits below them are the offset.
pub(crate) const MISSING_LEFT: u32 = 1 << 31;
pub(crate) const CATEGORICAL: u32 = 1 << 30;
pub(crate) const OFFSET: u32 = CATEGORICAL - 1;

/// Rows of a batch, feature by feature, for walks that read the same rows many times (a forest's
/// trees): row r's rank code of feature f is `q[f * stride + r]` (when the forest is ranked) and its
/// value `x[f * stride + r]`, nulls as NaN (when some tree keeps the scorer's walk).
pub(crate) struct Tile {
    pub len: usize,
    stride: usize,
    /// `q.len() - 1`; the length is a power of two, so a masked index needs no bounds check.
    q_mask: usize,
    q: Vec<u32>,
    x: Vec<f64>,
}

impl Tile {
    pub fn new(n_features: usize, stride: usize, codes: bool, values: bool) -> Tile {
        let len = (n_features * stride).max(1).next_power_of_two();
        let q = if codes { vec![0; len] } else { vec![0; 1] };
        let x = if values { vec![0.0; n_features * stride] } else { Vec::new() };
        Tile { len: 0, stride, q_mask: q.len() - 1, q, x }
    }

    /// Loads rows `from .. from + len` of `rows` (`len` at most the stride): their codes under `ranks`
    /// when given (and the tile was made for codes), their values when the tile was made for values.
    #[inline(always)]
    pub fn load(&mut self, rows: &ScoringRows, from: usize, len: usize, ranks: Option<&FeatureRanks>) {
        self.len = len;
        for f in 0..rows.raw.len() {
            let at = f * self.stride..f * self.stride + len;
            if let Some(ranks) = ranks.filter(|_| self.q.len() > 1) {
                ranks.rank(rows, f, from, &mut self.q[at.clone()]);
            }
            if self.x.is_empty() {
                continue;
            }
            let dst = &mut self.x[at];
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

/// The padded tree's steps, heap-ordered (ids `1 .. 2^depth`), one array per field: a vector of rows
/// loads each field with one gather. A step sends left the codes `1 ..= hi[id]` (numeric) or
/// `hi[id] ..= hi[id]` (categorical); a pass-through is numeric with `hi = u32::MAX >> 1` and sends
/// missing values left.
#[derive(Debug, Clone)]
struct Dense {
    depth: usize,
    hi: Vec<u32>,
    /// `feature * stride` (where the step's feature column starts in a tile) `| MISSING_LEFT | CATEGORICAL`.
    offset: Vec<u32>,
    /// Bottom slot `s` (id `2^depth + s`) → the heap id of the leaf it stands for (as long as the steps).
    leaf: Vec<u32>,
}

#[derive(Debug, Clone)]
pub(crate) struct TileTree {
    model: CompiledModel,
    dense: Option<Dense>,
}

impl TileTree {
    /// Compiles a tree for tiles of `stride` rows, padded when it is shallow enough and `ranks` (the
    /// forest's split values) are given.
    pub fn compile(table: &NodeTable, n_features: usize, n_arms: usize, stride: usize, ranks: Option<&FeatureRanks>) -> Result<TileTree> {
        let model = CompiledModel::compile(table, n_features, n_arms)?;
        let depth = table.nodes.iter().map(|n| n.id).max().unwrap_or(1).ilog2() as usize;
        let dense = match ranks {
            Some(ranks) if depth <= DENSE_MAX_DEPTH && ((n_features * stride) as u64) <= OFFSET as u64 && ranks.max_code() <= OFFSET => {
                Some(Dense::pad(table, depth, stride, ranks))
            }
            _ => None,
        };
        Ok(TileTree { model, dense })
    }

    /// Whether this tree walks the tile's doubles rather than its codes.
    pub fn needs_values(&self) -> bool {
        self.dense.is_none()
    }

    /// Every id's K values, `values()[id * K + a]` (a leaf's mean Γ for arm a; zeros elsewhere).
    pub fn values(&self) -> &[f64] {
        self.model.values()
    }

    /// Walks the tile's rows to their leaves, writing each one's leaf heap id into `ids` (`tile.len` of them).
    #[inline(always)]
    pub fn walk(&self, tile: &Tile, ids: &mut [u32]) {
        let Some(d) = &self.dense else {
            return self.model.walk_values(ids, |f, r| tile.x[f * tile.stride + r]);
        };
        descend(d, &tile.q, tile.q_mask, ids);
    }
}

/// Rows descended together: a local array the compiler keeps in registers through all the levels (no
/// stores between levels, and no aliasing with the tile to rule out), several independent loads in flight.
pub(crate) const LANES: usize = 64;

/// Every row of the tile `depth` levels down the padded steps, `LANES` rows at a time, to the heap id of
/// the leaf its bottom slot stands for: with AVX-512 or AVX2 sixteen or eight rows to a vector
/// (`simd::descend_vectors`, the same arithmetic), else this loop.
#[inline(always)]
fn descend(d: &Dense, q: &[u32], q_mask: usize, ids: &mut [u32]) {
    if crate::simd::descend_vectors(&d.hi, &d.offset, &d.leaf, d.depth, &q[..=q_mask], ids) {
        return;
    }
    descend_portable(d, q, q_mask, ids)
}

#[inline(always)]
fn descend_portable(d: &Dense, q: &[u32], q_mask: usize, ids: &mut [u32]) {
    let mask = d.hi.len() - 1;
    let (hi, offset, leaf) = (&d.hi[..=mask], &d.offset[..=mask], &d.leaf[..=mask]);
    let q = &q[..=q_mask];
    for (c, chunk) in ids.chunks_mut(LANES).enumerate() {
        let base = c * LANES;
        // Lanes past the tile's rows walk from the root on whatever codes they read; they are dropped.
        let mut id = [1u32; LANES];
        for _ in 0..d.depth {
            for (lane, id) in id.iter_mut().enumerate() {
                let (o, h) = (offset[*id as usize & mask], hi[*id as usize & mask]);
                let code = q[((o & OFFSET) as usize + base + lane) & q_mask];
                let lo = if o & CATEGORICAL != 0 { h } else { 1 };
                let right = ((code < lo) | (code > h)) ^ ((code == 0) & (o & MISSING_LEFT != 0));
                *id = 2 * *id + right as u32;
            }
        }
        // Bottom id `2^depth + s` is slot `s = id & mask`.
        for (out, &id) in chunk.iter_mut().zip(&id) {
            *out = leaf[id as usize & mask];
        }
    }
}

impl Dense {
    fn pad(table: &NodeTable, depth: usize, stride: usize, ranks: &FeatureRanks) -> Dense {
        let size = 1usize << depth;
        // Pass-throughs: every code left, missing values too.
        let (mut hi, mut offset) = (vec![OFFSET; size], vec![MISSING_LEFT; size]);
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
                hi[id] = ranks.left_codes(n.feature as usize, n.threshold, n.categorical).1;
                let flags = if n.missing_left { MISSING_LEFT } else { 0 } | if n.categorical { CATEGORICAL } else { 0 };
                offset[id] = (n.feature as usize * stride) as u32 | flags;
            }
        }
        // Parents precede children in heap order: a leaf's mark flows down its left-going pass-throughs.
        for id in 2..2 * size {
            if stands_for[id] == 0 {
                stands_for[id] = stands_for[id / 2];
            }
        }
        leaf.copy_from_slice(&stands_for[size..]);
        Dense { depth, hi, offset, leaf }
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
        let ranks = FeatureRanks::of(std::slice::from_ref(table), 2).unwrap();
        let mut tile = Tile::new(2, batch.num_rows(), true, true);
        tile.load(&scoring, 0, batch.num_rows(), Some(&ranks));
        let tree = TileTree::compile(table, 2, 2, batch.num_rows(), Some(&ranks)).unwrap();
        let fallback = TileTree::compile(table, 2, 2, batch.num_rows(), None).unwrap();
        assert!(fallback.needs_values());
        let (mut a, mut b) = (vec![0; batch.num_rows()], vec![0; batch.num_rows()]);
        tree.walk(&tile, &mut a);
        fallback.walk(&tile, &mut b);
        if let Some(d) = &tree.dense {
            // The portable loop, whatever `walk` dispatched to on this CPU.
            let mut c = vec![0; batch.num_rows()];
            descend_portable(d, &tile.q, tile.q_mask, &mut c);
            assert_eq!(c, a, "portable and dispatched descents");
            for (path, ids) in crate::simd::descend_every_path(&d.hi, &d.offset, &d.leaf, d.depth, &tile.q, c.len()) {
                assert_eq!(ids, c, "the {path} descent");
            }
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

//! The scorer: a node table compiled into dense arrays indexed by heap id, immutable and
//! shared by every task of an executor. Rows go left when `x <= threshold` (numeric splits) or
//! `x == threshold` (categorical splits: x is the category's code); a missing value (null or NaN,
//! which includes a category unseen in training: the JVM sends it as null) goes to the learned side.

use crate::error::try_zeroed;
use crate::feature_batch::float64_columns;
use crate::node_table::NodeTable;
use crate::{invalid, Result};
use arrow_array::{Array, Float64Array, RecordBatch};

/// A tree compiled for scoring. Every id up to the deepest leaf's has a step: a split goes to
/// its child; a leaf (and an id with no node, never reached from the root) steps to itself. So
/// every row takes exactly `depth` steps and a batch is walked one level at a time.
#[derive(Debug, Clone)]
pub struct CompiledModel {
    pub n_features: usize,
    pub n_arms: usize,
    /// Steps from the root to the deepest leaf.
    depth: usize,
    /// True only for the table's leaves (not for ids with no node).
    is_leaf: Vec<bool>,
    /// One step per id, packed so a step reads one small record.
    steps: Vec<Step>,
    arm: Vec<i32>,
    /// `values[id * K + a]`: a leaf's mean Γ for arm a.
    values: Vec<f64>,
}

/// What one step reads: the split's feature and threshold, its flags and both children. A leaf
/// steps to itself either way; it is never stepped from in a lone-leaf tree (depth 0), which may
/// have no feature column at all.
#[derive(Debug, Clone, Copy)]
struct Step {
    threshold: f64,
    feature: u32,
    categorical: bool,
    missing_left: bool,
    /// Left child, right child.
    child: [u32; 2],
}

/// Outputs of one scored batch, column by column. A row's scores are its leaf's values
/// (`leaf_values`), sent once per model as the leaf table rather than K doubles per row.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Scores {
    pub action: Vec<i32>,
    pub leaf: Vec<i32>,
}

impl CompiledModel {
    pub fn compile(table: &NodeTable, n_features: usize, n_arms: usize) -> Result<CompiledModel> {
        table.validate()?;
        if table.n_arms != n_arms {
            return invalid!("model has {} arms but the scorer was configured for {n_arms}", table.n_arms);
        }
        if let Some(f) = table.max_feature() {
            if f as usize >= n_features {
                return invalid!("model splits on feature index {f}, but only {n_features} feature columns are given");
            }
        }
        let max_id = table.nodes.iter().map(|n| n.id).max().unwrap_or(1) as usize;
        let len = max_id + 1;
        let mut m = CompiledModel {
            n_features,
            n_arms,
            depth: max_id.ilog2() as usize,
            is_leaf: vec![false; len],
            steps: (0..len as u32)
                .map(|id| Step { threshold: 0.0, feature: 0, categorical: false, missing_left: false, child: [id, id] })
                .collect(),
            arm: vec![0; len],
            values: vec![0.0; len * n_arms],
        };
        for n in &table.nodes {
            let i = n.id as usize;
            if n.is_leaf {
                m.is_leaf[i] = true;
                m.arm[i] = n.arm;
                m.values[i * n_arms..(i + 1) * n_arms].copy_from_slice(&n.values);
            } else {
                m.steps[i] = Step {
                    threshold: n.threshold,
                    feature: n.feature as u32,
                    categorical: n.categorical,
                    missing_left: n.missing_left,
                    child: [2 * n.id, 2 * n.id + 1],
                };
            }
        }
        Ok(m)
    }

    /// One step from `s` for a row whose value of `s.feature` is `x` (NaN = missing).
    /// Branch-free (bitwise selects on bools): a random row's direction is unpredictable.
    #[inline(always)]
    fn step(s: &Step, x: f64) -> u32 {
        // Both comparisons are false for NaN, so a missing value goes left only by `missing_left`.
        let cmp = (s.categorical & (x == s.threshold)) | (!s.categorical & (x <= s.threshold));
        let left = cmp | (x.is_nan() & s.missing_left);
        s.child[(!left) as usize]
    }

    /// The leaf id of one row, given a way to read feature f of that row (NaN = missing).
    pub fn leaf_of(&self, mut value: impl FnMut(usize) -> f64) -> usize {
        let mut id = 1usize;
        for _ in 0..self.depth {
            let s = &self.steps[id];
            id = Self::step(s, value(s.feature as usize)) as usize;
        }
        id
    }

    pub fn leaf_values(&self, leaf: usize) -> &[f64] {
        &self.values[leaf * self.n_arms..(leaf + 1) * self.n_arms]
    }

    pub(crate) fn values(&self) -> &[f64] {
        &self.values
    }

    /// Every leaf's id, in ascending order.
    pub fn leaf_ids(&self) -> impl Iterator<Item = usize> + '_ {
        (1..self.is_leaf.len()).filter(|&id| self.is_leaf[id])
    }

    /// Scores a batch whose first `n_features` columns are the features (Float64, nulls = missing).
    pub fn score_batch(&self, batch: &RecordBatch) -> Result<Scores> {
        let rows = ScoringRows::of(batch, self.n_features)?;
        let mut ids: Vec<u32> = try_zeroed(rows.n, "scoring node ids")?;
        self.walk(&rows, 0, &mut ids);
        Ok(Scores { action: ids.iter().map(|&id| self.arm[id as usize]).collect(), leaf: ids.into_iter().map(|id| id as i32).collect() })
    }

    /// Walks rows `from .. from + ids.len()` to their leaves, writing each one's leaf id into `ids`.
    /// Level by level over the rows: each row's step is independent of the next row's, so the CPU
    /// overlaps them instead of waiting on one row's chain of dependent loads.
    pub(crate) fn walk(&self, rows: &ScoringRows, from: usize, ids: &mut [u32]) {
        ids.fill(1);
        for _ in 0..self.depth {
            if rows.any_nulls {
                for (r, id) in ids.iter_mut().enumerate() {
                    let s = &self.steps[*id as usize];
                    let f = s.feature as usize;
                    *id = Self::step(s, if rows.cols[f].is_null(from + r) { f64::NAN } else { rows.raw[f][from + r] });
                }
            } else {
                for (r, id) in ids.iter_mut().enumerate() {
                    let s = &self.steps[*id as usize];
                    *id = Self::step(s, rows.raw[s.feature as usize][from + r]);
                }
            }
        }
    }
}

impl CompiledModel {
    /// Walks rows `0 .. ids.len()` to their leaves, writing each one's leaf id into `ids`; `value(f, r)` reads
    /// row r's value of feature f (NaN = missing). Level by level, as `walk`.
    pub(crate) fn walk_values(&self, ids: &mut [u32], value: impl Fn(usize, usize) -> f64) {
        ids.fill(1);
        for _ in 0..self.depth {
            for (r, id) in ids.iter_mut().enumerate() {
                let s = &self.steps[*id as usize];
                *id = Self::step(s, value(s.feature as usize, r));
            }
        }
    }
}

/// A scoring batch's feature columns, checked once: `raw[f][r]` is row r's value of feature f
/// (meaningless where `cols[f]` is null).
pub(crate) struct ScoringRows<'a> {
    pub n: usize,
    pub cols: Vec<&'a Float64Array>,
    pub raw: Vec<&'a [f64]>,
    any_nulls: bool,
}

impl<'a> ScoringRows<'a> {
    pub fn of(batch: &'a RecordBatch, n_features: usize) -> Result<ScoringRows<'a>> {
        if batch.num_columns() < n_features {
            return invalid!("scoring batch has {} columns; the model needs {n_features} features", batch.num_columns());
        }
        let cols = float64_columns(batch, n_features, "scoring")?;
        let raw = cols.iter().map(|c| c.values().as_ref()).collect();
        let any_nulls = cols.iter().any(|c| c.null_count() > 0);
        Ok(ScoringRows { n: batch.num_rows(), cols, raw, any_nulls })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::node_table::tests::{leaf, split};

    #[test]
    fn categorical_split_tests_equality_and_sends_missing_to_its_side() {
        let mut root = split(1, 0, 1.0, 1, true, 2);
        root.categorical = true;
        let t = NodeTable { n_arms: 2, nodes: vec![root, leaf(2, 1, vec![0.0, 1.0]), leaf(3, 0, vec![1.0, 0.0])] };
        let m = CompiledModel::compile(&t, 1, 2).unwrap();
        assert_eq!(m.leaf_of(|_| 1.0), 2);
        assert_eq!(m.leaf_of(|_| 0.0), 3);
        assert_eq!(m.leaf_of(|_| 2.0), 3);
        assert_eq!(m.leaf_of(|_| f64::NAN), 2);
    }
}

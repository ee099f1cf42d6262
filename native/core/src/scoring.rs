//! The scorer: a node table compiled into dense arrays indexed by heap id, immutable and
//! shared by every task of an executor. Rows go left when `x <= threshold` (numeric splits) or
//! `x == threshold` (categorical splits: x is the category's code); a missing value (null or NaN,
//! which includes a category unseen in training: the JVM sends it as null) goes to the learned side.

use crate::columns::float64_column;
use crate::node_table::NodeTable;
use crate::{invalid, Result};
use arrow_array::{Array, Float64Array, RecordBatch};

/// Split nodes have feature ≥ 0; leaves −1; ids with no node −2 (never reached from the root).
const LEAF: i32 = -1;

#[derive(Debug, Clone)]
pub struct CompiledModel {
    pub n_features: usize,
    pub n_arms: usize,
    feature: Vec<i32>,
    threshold: Vec<f64>,
    missing_left: Vec<bool>,
    categorical: Vec<bool>,
    arm: Vec<i32>,
    /// `values[id * K + a]`: a leaf's mean Γ for arm a.
    values: Vec<f64>,
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
        let len = table.nodes.iter().map(|n| n.id).max().unwrap_or(1) as usize + 1;
        let mut m = CompiledModel {
            n_features,
            n_arms,
            feature: vec![-2; len],
            threshold: vec![0.0; len],
            missing_left: vec![false; len],
            categorical: vec![false; len],
            arm: vec![0; len],
            values: vec![0.0; len * n_arms],
        };
        for n in &table.nodes {
            let i = n.id as usize;
            if n.is_leaf {
                m.feature[i] = LEAF;
                m.arm[i] = n.arm;
                m.values[i * n_arms..(i + 1) * n_arms].copy_from_slice(&n.values);
            } else {
                m.feature[i] = n.feature;
                m.threshold[i] = n.threshold;
                m.missing_left[i] = n.missing_left;
                m.categorical[i] = n.categorical;
            }
        }
        Ok(m)
    }

    /// The leaf id of one row, given a way to read feature f of that row (NaN = missing).
    #[inline]
    pub fn leaf_of(&self, mut value: impl FnMut(usize) -> f64) -> usize {
        let mut id = 1usize;
        loop {
            let f = self.feature[id];
            if f < 0 {
                return id;
            }
            let x = value(f as usize);
            let left = if x.is_nan() {
                self.missing_left[id]
            } else if self.categorical[id] {
                x == self.threshold[id]
            } else {
                x <= self.threshold[id]
            };
            id = 2 * id + (!left) as usize;
        }
    }

    pub fn leaf_arm(&self, leaf: usize) -> i32 {
        self.arm[leaf]
    }

    pub fn leaf_values(&self, leaf: usize) -> &[f64] {
        &self.values[leaf * self.n_arms..(leaf + 1) * self.n_arms]
    }

    /// Every leaf's id, in ascending order.
    pub fn leaf_ids(&self) -> impl Iterator<Item = usize> + '_ {
        self.feature.iter().enumerate().filter(|(_, &f)| f == LEAF).map(|(id, _)| id)
    }

    /// Scores a batch whose first `n_features` columns are the features (Float64, nulls = missing).
    pub fn score_batch(&self, batch: &RecordBatch) -> Result<Scores> {
        if batch.num_columns() < self.n_features {
            return invalid!("scoring batch has {} columns; the model needs {} features", batch.num_columns(), self.n_features);
        }
        let cols: Vec<&Float64Array> = (0..self.n_features).map(|i| float64_column(batch, i, "scoring")).collect::<Result<_>>()?;
        let n = batch.num_rows();
        let mut out = Scores { action: Vec::with_capacity(n), leaf: Vec::with_capacity(n) };
        let any_nulls = cols.iter().any(|c| c.null_count() > 0);
        let raw: Vec<&[f64]> = cols.iter().map(|c| c.values().as_ref()).collect();
        // Row-at-a-time over column arrays: `r` indexes every feature column, not one slice.
        #[allow(clippy::needless_range_loop)]
        for r in 0..n {
            let leaf = if any_nulls {
                self.leaf_of(|f| if cols[f].is_null(r) { f64::NAN } else { raw[f][r] })
            } else {
                self.leaf_of(|f| raw[f][r])
            };
            out.action.push(self.arm[leaf]);
            out.leaf.push(leaf as i32);
        }
        Ok(out)
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

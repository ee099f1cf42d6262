//! The scorer's replies:
//!
//! * score columns (`scoreInto`): no IPC. The JVM passes its reused output arrays and a first row `at`, and a
//!   batch of n rows is copied into them with one `Set<Type>ArrayRegion` each: `action[at + r]` (the arm) and,
//!   for a tree, `leaf[at + r]` (the leaf's heap id); for a forest of T trees over K arms, `scores[(at + r) * K + a]`
//!   (the row's mean scores) and, unless the JVM passes no leaves array (its query does not read
//!   `policy_leaves`), `leaves[(at + r) * T + t]` (each tree's leaf heap id, tree order). `ScoreColumns` is that
//!   reply on this side; an empty vector is a column the model does not have or was not asked for.
//! * leaf table (`scorerLeafTable`): an IPC stream of one batch with one row per leaf of the model,
//!   ids ascending: `leaf` Int32 (heap id) and `scores` FixedSizeList<Float64 "item">[K] (the leaf's
//!   mean Γ per arm), all non-null. A row's scores are its leaf's, so they are sent once per model.

use crate::columns::named_column;
use crate::forest::ForestScores;
use crate::scoring::{CompiledModel, Scores};
use crate::{invalid, Result};
use arrow_array::{Array, ArrayRef, FixedSizeListArray, Float64Array, Int32Array, RecordBatch};
use arrow_schema::{DataType, Field, Schema};
use std::sync::Arc;

/// A scoring reply as the arrays `scoreInto` fills, row-major (see the module doc).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ScoreColumns {
    pub action: Vec<i32>,
    pub leaf: Vec<i32>,
    pub scores: Vec<f64>,
    pub leaves: Vec<i32>,
}

impl ScoreColumns {
    pub fn rows(&self) -> usize {
        self.action.len()
    }

    /// One reply for a stream's batches, in order (the JVM sends one batch a call, so this rarely copies).
    pub fn concat(parts: Vec<ScoreColumns>) -> ScoreColumns {
        let mut parts = parts.into_iter();
        let mut all = parts.next().unwrap_or_default();
        for p in parts {
            all.action.extend(p.action);
            all.leaf.extend(p.leaf);
            all.scores.extend(p.scores);
            all.leaves.extend(p.leaves);
        }
        all
    }
}

impl From<Scores> for ScoreColumns {
    fn from(s: Scores) -> ScoreColumns {
        ScoreColumns { action: s.action, leaf: s.leaf, ..ScoreColumns::default() }
    }
}

impl From<ForestScores> for ScoreColumns {
    fn from(s: ForestScores) -> ScoreColumns {
        ScoreColumns { action: s.action, scores: s.scores, leaves: s.leaves, ..ScoreColumns::default() }
    }
}

/// Every leaf of a model once: heap ids ascending and their K scores, row-major.
#[derive(Debug, Clone, PartialEq)]
pub struct LeafTable {
    pub n_arms: usize,
    pub leaves: Vec<i32>,
    /// `scores[i * K + a]`: leaf i's mean Γ for arm a.
    pub scores: Vec<f64>,
}

impl LeafTable {
    pub fn of_model(model: &CompiledModel) -> LeafTable {
        let ids: Vec<usize> = model.leaf_ids().collect();
        LeafTable {
            n_arms: model.n_arms,
            scores: ids.iter().flat_map(|&id| model.leaf_values(id).iter().copied()).collect(),
            leaves: ids.into_iter().map(|id| id as i32).collect(),
        }
    }

    pub fn to_record_batch(&self) -> Result<RecordBatch> {
        let item = Arc::new(Field::new("item", DataType::Float64, false));
        let k = self.n_arms as i32;
        let list = FixedSizeListArray::try_new(item.clone(), k, Arc::new(Float64Array::from(self.scores.clone())), None)?;
        let schema =
            Schema::new(vec![Field::new("leaf", DataType::Int32, false), Field::new("scores", DataType::FixedSizeList(item, k), false)]);
        let cols: Vec<ArrayRef> = vec![Arc::new(Int32Array::from(self.leaves.clone())), Arc::new(list)];
        Ok(RecordBatch::try_new(Arc::new(schema), cols)?)
    }

    pub fn from_record_batch(batch: &RecordBatch) -> Result<LeafTable> {
        let leaves = named_column::<Int32Array>(batch, "leaf", "leaf table")?.values().to_vec();
        let list = named_column::<FixedSizeListArray>(batch, "scores", "leaf table")?;
        let Some(values) = list.values().as_any().downcast_ref::<Float64Array>() else {
            return invalid!("leaf table scores are lists of {}; expected Float64", list.value_type());
        };
        if values.null_count() > 0 {
            return invalid!("leaf table scores have nulls");
        }
        let k = list.value_length() as usize;
        let scores = values.values()[..list.len() * k].to_vec();
        Ok(LeafTable { n_arms: k, leaves, scores })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::node_table::tests::{leaf, split};
    use crate::node_table::NodeTable;

    #[test]
    fn score_columns_concatenate_batches_in_order() {
        let tree = |a: Vec<i32>, l: Vec<i32>| ScoreColumns::from(Scores { action: a, leaf: l });
        let all = ScoreColumns::concat(vec![tree(vec![0, 1], vec![2, 3]), tree(vec![1], vec![3])]);
        assert_eq!((all.rows(), all.action, all.leaf), (3, vec![0, 1, 1], vec![2, 3, 3]));
        let forest = ForestScores { n_arms: 2, n_trees: 1, action: vec![1], scores: vec![0.5, 1.5], leaves: vec![2] };
        let one = ScoreColumns::concat(vec![forest.into()]);
        assert_eq!((one.scores, one.leaves, one.leaf.len()), (vec![0.5, 1.5], vec![2], 0));
        assert_eq!(ScoreColumns::concat(Vec::new()).rows(), 0);
    }

    #[test]
    fn leaf_table_of_a_model_round_trips() {
        let t = NodeTable { n_arms: 2, nodes: vec![split(1, 0, 0.5, 3, true, 2), leaf(2, 0, vec![1.0, 0.0]), leaf(3, 1, vec![0.0, 2.5])] };
        let table = LeafTable::of_model(&CompiledModel::compile(&t, 1, 2).unwrap());
        assert_eq!(table, LeafTable { n_arms: 2, leaves: vec![2, 3], scores: vec![1.0, 0.0, 0.0, 2.5] });
        let batch = table.to_record_batch().unwrap();
        assert_eq!(LeafTable::from_record_batch(&batch).unwrap(), table);
        assert_eq!(LeafTable::from_record_batch(&batch.slice(1, 1)).unwrap().scores, vec![0.0, 2.5]);
        let wrong = RecordBatch::try_from_iter([("leaf", batch.column(0).clone()), ("scores", batch.column(0).clone())]).unwrap();
        assert!(LeafTable::from_record_batch(&wrong).unwrap_err().to_string().contains("column 'scores' has type Int32"));
    }
}

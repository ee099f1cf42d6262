//! The scorer's replies, as Arrow record batches (the JNI crate only turns them into IPC bytes):
//!
//! * score reply (`scoreBatch`): an IPC stream of one batch per input batch, columns
//!   `action` Int32 (the arm) and `leaf` Int32 (the leaf's heap id), both non-null;
//! * leaf table (`scorerLeafTable`): an IPC stream of one batch with one row per leaf of the model,
//!   ids ascending: `leaf` Int32 (heap id) and `scores` FixedSizeList<Float64 "item">[K] (the leaf's
//!   mean Γ per arm), all non-null. A row's scores are its leaf's, so they are sent once per model.
//! * forest score reply (`scoreBatch` on a forest): an IPC stream of one batch per input batch,
//!   columns `action` Int32, `scores` FixedSizeList<Float64 "item">[K] (the row's mean scores) and
//!   `leaves` FixedSizeList<Int32 "item">[T] (each tree's leaf heap id, tree order), all non-null.

use crate::columns::named_column;
use crate::forest::ForestScores;
use crate::scoring::{CompiledModel, Scores};
use crate::{invalid, Result};
use arrow_array::{Array, ArrayRef, FixedSizeListArray, Float64Array, Int32Array, RecordBatch};
use arrow_schema::{DataType, Field, Schema};
use std::sync::Arc;

impl Scores {
    pub fn to_record_batch(self) -> Result<RecordBatch> {
        let schema = Schema::new(vec![Field::new("action", DataType::Int32, false), Field::new("leaf", DataType::Int32, false)]);
        let cols: Vec<ArrayRef> = vec![Arc::new(Int32Array::from(self.action)), Arc::new(Int32Array::from(self.leaf))];
        Ok(RecordBatch::try_new(Arc::new(schema), cols)?)
    }

    pub fn from_record_batch(batch: &RecordBatch) -> Result<Scores> {
        let column = |name| named_column::<Int32Array>(batch, name, "score reply").map(|c| c.values().to_vec());
        Ok(Scores { action: column("action")?, leaf: column("leaf")? })
    }
}

fn list<A: Array + 'static>(values: A, item: DataType, len: usize) -> Result<(Field, ArrayRef)> {
    let item = Arc::new(Field::new("item", item, false));
    let list = FixedSizeListArray::try_new(item.clone(), len as i32, Arc::new(values), None)?;
    Ok((Field::new("", DataType::FixedSizeList(item, len as i32), false), Arc::new(list)))
}

/// The values of a FixedSizeList column of `batch`, row-major, and the list length.
fn list_values<'a, T: Array + 'static>(batch: &'a RecordBatch, name: &str, what: &str) -> Result<(&'a T, usize)> {
    let list = named_column::<FixedSizeListArray>(batch, name, what)?;
    let Some(values) = list.values().as_any().downcast_ref::<T>() else {
        return invalid!("{what} column '{name}' holds lists of {}", list.value_type());
    };
    if values.null_count() > 0 {
        return invalid!("{what} column '{name}' has nulls");
    }
    Ok((values, list.value_length() as usize))
}

impl ForestScores {
    pub fn to_record_batch(self) -> Result<RecordBatch> {
        let (scores_field, scores) = list(Float64Array::from(self.scores), DataType::Float64, self.n_arms)?;
        let (leaves_field, leaves) = list(Int32Array::from(self.leaves), DataType::Int32, self.n_trees)?;
        let schema = Schema::new(vec![
            Field::new("action", DataType::Int32, false),
            scores_field.with_name("scores"),
            leaves_field.with_name("leaves"),
        ]);
        Ok(RecordBatch::try_new(Arc::new(schema), vec![Arc::new(Int32Array::from(self.action)), scores, leaves])?)
    }

    pub fn from_record_batch(batch: &RecordBatch) -> Result<ForestScores> {
        let what = "forest score reply";
        let n = batch.num_rows();
        let action = named_column::<Int32Array>(batch, "action", what)?.values().to_vec();
        let (scores, n_arms) = list_values::<Float64Array>(batch, "scores", what)?;
        let (leaves, n_trees) = list_values::<Int32Array>(batch, "leaves", what)?;
        Ok(ForestScores {
            n_arms,
            n_trees,
            action,
            scores: scores.values()[..n * n_arms].to_vec(),
            leaves: leaves.values()[..n * n_trees].to_vec(),
        })
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
    fn score_reply_round_trips() {
        let scores = Scores { action: vec![0, 1, 1], leaf: vec![2, 3, 3] };
        assert_eq!(Scores::from_record_batch(&scores.clone().to_record_batch().unwrap()).unwrap(), scores);
        let batch = RecordBatch::try_from_iter([("action", Arc::new(Int32Array::from(vec![1])) as ArrayRef)]).unwrap();
        assert!(Scores::from_record_batch(&batch).unwrap_err().to_string().contains("score reply has no column 'leaf'"));
    }

    #[test]
    fn forest_score_reply_round_trips() {
        let scores =
            ForestScores { n_arms: 2, n_trees: 3, action: vec![1, 0], scores: vec![0.5, 1.5, 2.0, 0.0], leaves: vec![2, 3, 4, 3, 3, 5] };
        let batch = scores.clone().to_record_batch().unwrap();
        assert_eq!(ForestScores::from_record_batch(&batch).unwrap(), scores);
        let tail = ForestScores::from_record_batch(&batch.slice(1, 1)).unwrap();
        assert_eq!((tail.scores, tail.leaves), (vec![2.0, 0.0], vec![3, 3, 5]));
        let wrong = RecordBatch::try_from_iter([("action", batch.column(0).clone()), ("scores", batch.column(2).clone())]).unwrap();
        assert!(ForestScores::from_record_batch(&wrong).unwrap_err().to_string().contains("'scores' holds lists of Int32"));
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

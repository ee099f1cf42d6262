//! The tree as one flat table of nodes in heap numbering (root 1, children 2k and 2k+1).
//! It is the only model format: it crosses JNI as an Arrow record batch, is persisted as
//! Parquet by the JVM, and compiles into the scorer. During training the same table carries
//! the frontier nodes as leaves, and `threshold_bin` routes binned rows.
//!
//! Columns: node_id Int32, is_leaf Boolean, feature Int32 (−1 for leaves), threshold Float64,
//! threshold_bin Int32, missing_left Boolean, arm Int32 (−1 for splits), count Int64,
//! value_0 … value_{K−1} Float64 (a leaf's mean Γ per arm), and optionally categorical Boolean:
//! a categorical split sends `x == threshold` (the category's code; on bins, code == threshold_bin)
//! left instead of `x <= threshold`. Tables without the column (older models) are all numeric.

use crate::columns::named_column;
use crate::{invalid, Result};
use arrow_array::{ArrayRef, BooleanArray, Float64Array, Int32Array, Int64Array, RecordBatch};
use arrow_schema::{DataType, Field, Schema};
use std::collections::HashMap;
use std::sync::Arc;

/// Heap ids above this would make the dense scorer arrays unreasonably large (depth > 20).
pub const MAX_NODE_ID: u32 = 1 << 21;

#[derive(Debug, Clone, PartialEq)]
pub struct TreeNode {
    pub id: u32,
    pub is_leaf: bool,
    pub feature: i32,
    pub threshold: f64,
    pub threshold_bin: i32,
    pub missing_left: bool,
    /// One-vs-rest on a category code instead of a threshold.
    pub categorical: bool,
    pub arm: i32,
    pub count: i64,
    pub values: Vec<f64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NodeTable {
    pub n_arms: usize,
    pub nodes: Vec<TreeNode>,
}

fn column<'a, T: 'static>(batch: &'a RecordBatch, name: &str) -> Result<&'a T> {
    named_column(batch, name, "node table")
}

impl NodeTable {
    pub fn from_record_batch(batch: &RecordBatch) -> Result<NodeTable> {
        let ids = column::<Int32Array>(batch, "node_id")?;
        let is_leaf = column::<BooleanArray>(batch, "is_leaf")?;
        let feature = column::<Int32Array>(batch, "feature")?;
        let threshold = column::<Float64Array>(batch, "threshold")?;
        let threshold_bin = column::<Int32Array>(batch, "threshold_bin")?;
        let missing_left = column::<BooleanArray>(batch, "missing_left")?;
        let arm = column::<Int32Array>(batch, "arm")?;
        let count = column::<Int64Array>(batch, "count")?;
        let categorical = match batch.column_by_name("categorical") {
            Some(_) => Some(column::<BooleanArray>(batch, "categorical")?),
            None => None,
        };
        let n_arms = batch.schema().fields().iter().filter(|f| f.name().starts_with("value_")).count();
        let values: Vec<&Float64Array> =
            (0..n_arms).map(|a| column::<Float64Array>(batch, &format!("value_{a}"))).collect::<Result<_>>()?;
        let nodes = (0..batch.num_rows())
            .map(|r| {
                let id = ids.value(r);
                if id < 1 || id as u32 > MAX_NODE_ID {
                    return invalid!("node table row {r} has node_id {id}; ids run from 1 to {MAX_NODE_ID}");
                }
                Ok(TreeNode {
                    id: id as u32,
                    is_leaf: is_leaf.value(r),
                    feature: feature.value(r),
                    threshold: threshold.value(r),
                    threshold_bin: threshold_bin.value(r),
                    missing_left: missing_left.value(r),
                    categorical: categorical.is_some_and(|c| c.value(r)),
                    arm: arm.value(r),
                    count: count.value(r),
                    values: values.iter().map(|v| v.value(r)).collect(),
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let table = NodeTable { n_arms, nodes };
        table.validate()?;
        Ok(table)
    }

    pub fn to_record_batch(&self) -> Result<RecordBatch> {
        let mut fields = vec![
            Field::new("node_id", DataType::Int32, false),
            Field::new("is_leaf", DataType::Boolean, false),
            Field::new("feature", DataType::Int32, false),
            Field::new("threshold", DataType::Float64, false),
            Field::new("threshold_bin", DataType::Int32, false),
            Field::new("missing_left", DataType::Boolean, false),
            Field::new("arm", DataType::Int32, false),
            Field::new("count", DataType::Int64, false),
            Field::new("categorical", DataType::Boolean, false),
        ];
        let n = &self.nodes;
        let mut cols: Vec<ArrayRef> = vec![
            Arc::new(Int32Array::from_iter_values(n.iter().map(|x| x.id as i32))),
            Arc::new(BooleanArray::from(n.iter().map(|x| x.is_leaf).collect::<Vec<_>>())),
            Arc::new(Int32Array::from_iter_values(n.iter().map(|x| x.feature))),
            Arc::new(Float64Array::from_iter_values(n.iter().map(|x| x.threshold))),
            Arc::new(Int32Array::from_iter_values(n.iter().map(|x| x.threshold_bin))),
            Arc::new(BooleanArray::from(n.iter().map(|x| x.missing_left).collect::<Vec<_>>())),
            Arc::new(Int32Array::from_iter_values(n.iter().map(|x| x.arm))),
            Arc::new(Int64Array::from_iter_values(n.iter().map(|x| x.count))),
            Arc::new(BooleanArray::from(n.iter().map(|x| x.categorical).collect::<Vec<_>>())),
        ];
        for a in 0..self.n_arms {
            fields.push(Field::new(format!("value_{a}"), DataType::Float64, false));
            cols.push(Arc::new(Float64Array::from_iter_values(n.iter().map(|x| x.values[a]))));
        }
        Ok(RecordBatch::try_new(Arc::new(Schema::new(fields)), cols)?)
    }

    /// Structural checks: a root, unique ids, children of every split present, no orphans,
    /// arms in range. Feature indices are checked against the data when compiling.
    pub fn validate(&self) -> Result<()> {
        if self.n_arms < 2 {
            return invalid!("node table has {} value columns; a policy needs at least 2 arms", self.n_arms);
        }
        let mut leaf_by_id = HashMap::with_capacity(self.nodes.len());
        for node in &self.nodes {
            if leaf_by_id.insert(node.id, node.is_leaf).is_some() {
                return invalid!("node table has node_id {} twice", node.id);
            }
        }
        if !leaf_by_id.contains_key(&1) {
            return invalid!("node table has no root (node_id 1)");
        }
        for node in &self.nodes {
            if node.id > 1 && leaf_by_id.get(&(node.id / 2)) != Some(&false) {
                return invalid!("node {} has no parent split {}", node.id, node.id / 2);
            }
            if node.is_leaf {
                if node.arm < 0 || node.arm as usize >= self.n_arms {
                    return invalid!("leaf {} has arm {}; expected 0..{}", node.id, node.arm, self.n_arms - 1);
                }
            } else {
                if node.feature < 0 {
                    return invalid!("split node {} has feature index {}", node.id, node.feature);
                }
                if node.threshold.is_nan() {
                    return invalid!("split node {} has a NaN threshold", node.id);
                }
                for child in [2 * node.id, 2 * node.id + 1] {
                    if !leaf_by_id.contains_key(&child) {
                        return invalid!("split node {} is missing its child {child}", node.id);
                    }
                }
            }
        }
        Ok(())
    }

    /// Dense lookup: index = heap id, `None` where no node exists.
    pub fn dense(&self) -> Vec<Option<&TreeNode>> {
        let max_id = self.nodes.iter().map(|n| n.id).max().unwrap_or(1) as usize;
        let mut dense = vec![None; max_id + 1];
        for n in &self.nodes {
            dense[n.id as usize] = Some(n);
        }
        dense
    }

    pub fn max_feature(&self) -> Option<i32> {
        self.nodes.iter().filter(|n| !n.is_leaf).map(|n| n.feature).max()
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub fn leaf(id: u32, arm: i32, values: Vec<f64>) -> TreeNode {
        TreeNode { is_leaf: true, feature: -1, threshold: 0.0, threshold_bin: -1, arm, count: 1, values, ..split(id, 0, 0.0, 0, false, 0) }
    }

    pub fn split(id: u32, feature: i32, threshold: f64, bin: i32, missing_left: bool, k: usize) -> TreeNode {
        TreeNode {
            id,
            is_leaf: false,
            feature,
            threshold,
            threshold_bin: bin,
            missing_left,
            categorical: false,
            arm: -1,
            count: 2,
            values: vec![0.0; k],
        }
    }

    #[test]
    fn round_trips_through_arrow() {
        let t = NodeTable { n_arms: 2, nodes: vec![split(1, 0, 0.5, 3, true, 2), leaf(2, 0, vec![1.0, 0.0]), leaf(3, 1, vec![0.0, 2.0])] };
        assert_eq!(NodeTable::from_record_batch(&t.to_record_batch().unwrap()).unwrap(), t);
    }

    #[test]
    fn tables_without_the_categorical_column_are_numeric() {
        let mut t =
            NodeTable { n_arms: 2, nodes: vec![split(1, 0, 2.0, 2, true, 2), leaf(2, 0, vec![1.0, 0.0]), leaf(3, 1, vec![0.0, 2.0])] };
        t.nodes[0].categorical = true;
        let batch = t.to_record_batch().unwrap();
        assert_eq!(NodeTable::from_record_batch(&batch).unwrap(), t);
        let idx = batch.schema().index_of("categorical").unwrap();
        let mut older = batch.clone();
        older.remove_column(idx);
        assert!(!NodeTable::from_record_batch(&older).unwrap().nodes[0].categorical);
    }

    #[test]
    fn rejects_broken_structure() {
        let missing_child = NodeTable { n_arms: 2, nodes: vec![split(1, 0, 0.5, 3, true, 2), leaf(2, 0, vec![1.0, 0.0])] };
        assert!(missing_child.validate().unwrap_err().to_string().contains("missing its child 3"));
        let bad_arm = NodeTable { n_arms: 2, nodes: vec![leaf(1, 5, vec![0.0, 0.0])] };
        assert!(bad_arm.validate().unwrap_err().to_string().contains("arm 5"));
        let orphan = NodeTable { n_arms: 2, nodes: vec![leaf(1, 0, vec![0.0, 0.0]), leaf(2, 0, vec![0.0, 0.0])] };
        assert!(orphan.validate().unwrap_err().to_string().contains("no parent split"));
    }
}

//! Typed access to the columns of Arrow batches, with errors that name the batch kind, column and type.
//! The formats themselves live with their owners (`node_table`, `feature_batch`, `reply`).

use crate::{invalid, PolicyError, Result};
use arrow_array::{Array, RecordBatch};

/// The column called `name` of `what` (e.g. "node table") as array type `T`, with no nulls.
pub fn named_column<'a, T: 'static>(batch: &'a RecordBatch, name: &str, what: &str) -> Result<&'a T> {
    let col = batch.column_by_name(name).ok_or_else(|| PolicyError::InvalidInput(format!("{what} has no column '{name}'")))?;
    if col.null_count() > 0 {
        return invalid!("{what} column '{name}' has nulls");
    }
    col.as_any()
        .downcast_ref::<T>()
        .ok_or_else(|| PolicyError::InvalidInput(format!("{what} column '{name}' has type {}", col.data_type())))
}

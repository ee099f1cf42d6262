//! Reading Arrow batches the kernels receive: every column they read is Float64 (null = missing).

use crate::{PolicyError, Result};
use arrow_array::{Array, Float64Array, RecordBatch};

/// Column `i` of `batch` as Float64, or an error naming the batch kind, column and actual type.
pub fn float64_column<'a>(batch: &'a RecordBatch, i: usize, what: &str) -> Result<&'a Float64Array> {
    batch.column(i).as_any().downcast_ref::<Float64Array>().ok_or_else(|| {
        PolicyError::InvalidInput(format!(
            "{what} batch column {i} ('{}') is {}; expected Float64",
            batch.schema().field(i).name(),
            batch.column(i).data_type()
        ))
    })
}

//! Feature batches, the rows `blockBuilderPush` and `scoreInto` send: Arrow IPC streams of one or
//! more record batches whose columns are nullable Float64, read by position (names are the JVM's,
//! carried but not interpreted). A null, like NaN, is a missing value. The block builder reads F
//! feature columns then K reward columns; the scorer reads the first F columns as the features.

use crate::{PolicyError, Result};
use arrow_array::{Array, ArrayRef, Float64Array, RecordBatch, RecordBatchOptions};
use arrow_schema::{DataType, Field, Schema};
use std::sync::Arc;

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

/// The first `n` columns of `batch` as Float64 (the caller has checked that it has `n`).
pub fn float64_columns<'a>(batch: &'a RecordBatch, n: usize, what: &str) -> Result<Vec<&'a Float64Array>> {
    (0..n).map(|i| float64_column(batch, i, what)).collect()
}

/// One decoded feature batch: its column names and Float64 columns, in order.
#[derive(Debug, Clone, PartialEq)]
pub struct FeatureBatch {
    pub n_rows: usize,
    pub names: Vec<String>,
    pub columns: Vec<Float64Array>,
}

impl FeatureBatch {
    /// Every column, read as the kernels read theirs.
    pub fn from_record_batch(batch: &RecordBatch) -> Result<FeatureBatch> {
        let columns = float64_columns(batch, batch.num_columns(), "feature")?;
        Ok(FeatureBatch {
            n_rows: batch.num_rows(),
            names: batch.schema().fields().iter().map(|f| f.name().clone()).collect(),
            columns: columns.into_iter().cloned().collect(),
        })
    }

    pub fn to_record_batch(&self) -> Result<RecordBatch> {
        let fields: Vec<Field> = self.names.iter().map(|n| Field::new(n, DataType::Float64, true)).collect();
        let cols: Vec<ArrayRef> = self.columns.iter().map(|c| Arc::new(c.clone()) as ArrayRef).collect();
        let options = RecordBatchOptions::new().with_row_count(Some(self.n_rows));
        Ok(RecordBatch::try_new_with_options(Arc::new(Schema::new(fields)), cols, &options)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_names_values_and_nulls() {
        let cols: Vec<ArrayRef> =
            vec![Arc::new(Float64Array::from(vec![Some(0.5), None, Some(f64::NAN)])), Arc::new(Float64Array::from(vec![1.0, -2.0, 3.0]))];
        let batch = RecordBatch::try_from_iter([("x", cols[0].clone()), ("reward_1", cols[1].clone())]).unwrap();
        let decoded = FeatureBatch::from_record_batch(&batch).unwrap();
        assert_eq!(decoded.names, vec!["x", "reward_1"]);
        let again = decoded.to_record_batch().unwrap();
        assert_eq!(FeatureBatch::from_record_batch(&again).unwrap(), decoded);
        assert!(again.column(0).is_null(1) && again.schema().field(0).is_nullable());
        let empty = FeatureBatch { n_rows: 4, names: vec![], columns: vec![] };
        assert_eq!(FeatureBatch::from_record_batch(&empty.to_record_batch().unwrap()).unwrap(), empty);
    }

    #[test]
    fn refuses_a_column_that_is_not_float64() {
        let batch = RecordBatch::try_from_iter([("n", Arc::new(arrow_array::Int32Array::from(vec![1])) as ArrayRef)]).unwrap();
        let e = FeatureBatch::from_record_batch(&batch).unwrap_err().to_string();
        assert!(e.contains("feature batch column 0 ('n') is Int32; expected Float64"), "{e}");
    }
}

//! Arrow IPC stream bytes ⇄ record batches, the only data format crossing JNI besides
//! training blocks and flat histograms.

use arrow_array::{ArrayRef, FixedSizeListArray, Float64Array, Int32Array, RecordBatch};
use arrow_ipc::reader::StreamReader;
use arrow_ipc::writer::StreamWriter;
use arrow_schema::{DataType, Field, Schema};
use sparkpolicy_core::scoring::{CompiledModel, Scores};
use sparkpolicy_core::{PolicyError, Result};
use std::io::Cursor;
use std::sync::Arc;

pub fn read_batches(bytes: &[u8]) -> Result<Vec<RecordBatch>> {
    let reader = StreamReader::try_new(Cursor::new(bytes), None)
        .map_err(|e| PolicyError::InvalidInput(format!("invalid Arrow IPC stream ({} bytes): {e}", bytes.len())))?;
    reader.map(|b| b.map_err(|e| PolicyError::InvalidInput(format!("invalid Arrow IPC batch: {e}")))).collect()
}

/// Exactly one batch (node tables are written as one).
pub fn read_single(bytes: &[u8]) -> Result<RecordBatch> {
    let mut batches = read_batches(bytes)?;
    if batches.len() != 1 {
        return Err(PolicyError::InvalidInput(format!("expected one record batch in the Arrow IPC stream, got {}", batches.len())));
    }
    Ok(batches.remove(0))
}

pub fn write_batches(batches: &[RecordBatch]) -> Result<Vec<u8>> {
    let schema = batches.first().map(|b| b.schema()).ok_or_else(|| PolicyError::Internal("no batch to write".into()))?;
    let mut writer = StreamWriter::try_new(Vec::new(), &schema).map_err(internal)?;
    for b in batches {
        writer.write(b).map_err(internal)?;
    }
    writer.finish().map_err(internal)?;
    writer.into_inner().map_err(internal)
}

fn internal(e: arrow_schema::ArrowError) -> PolicyError {
    PolicyError::Internal(format!("Arrow IPC write failed: {e}"))
}

/// Scores as an Arrow batch: action Int32, leaf Int32.
pub fn scores_batch(scores: Scores) -> Result<RecordBatch> {
    let schema = Schema::new(vec![Field::new("action", DataType::Int32, false), Field::new("leaf", DataType::Int32, false)]);
    let cols: Vec<ArrayRef> = vec![Arc::new(Int32Array::from(scores.action)), Arc::new(Int32Array::from(scores.leaf))];
    Ok(RecordBatch::try_new(Arc::new(schema), cols)?)
}

/// Every leaf of a model, once: leaf Int32 (heap id), scores FixedSizeList<Float64>[K].
pub fn leaf_table_batch(model: &CompiledModel) -> Result<RecordBatch> {
    let ids: Vec<usize> = model.leaf_ids().collect();
    let values: Vec<f64> = ids.iter().flat_map(|&id| model.leaf_values(id).iter().copied()).collect();
    let item = Arc::new(Field::new("item", DataType::Float64, false));
    let k = model.n_arms as i32;
    let list = FixedSizeListArray::try_new(item.clone(), k, Arc::new(Float64Array::from(values)), None)?;
    let schema =
        Schema::new(vec![Field::new("leaf", DataType::Int32, false), Field::new("scores", DataType::FixedSizeList(item, k), false)]);
    let cols: Vec<ArrayRef> = vec![Arc::new(Int32Array::from(ids.iter().map(|&id| id as i32).collect::<Vec<_>>())), Arc::new(list)];
    Ok(RecordBatch::try_new(Arc::new(schema), cols)?)
}

//! Arrow IPC stream bytes ⇄ record batches. The batches' formats are the core's (`node_table`,
//! `feature_batch`, `reply`); this module only frames them as IPC streams.

use arrow_array::RecordBatch;
use arrow_ipc::reader::StreamReader;
use arrow_ipc::writer::StreamWriter;
use sparkpolicy_core::{PolicyError, Result};
use std::io::Cursor;

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

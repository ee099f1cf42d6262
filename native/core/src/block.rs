//! A training block: one partition's rows, binned once and stored compactly, so every
//! tree level re-reads a few bytes per row instead of the raw data.
//!
//! Byte layout (little-endian), versioned by the magic:
//! ```text
//! 0   "SPB1"
//! 4   n_rows u32 | 8 n_features u32 | 12 n_arms u32 | 16 code_width u32 (1 or 2) | 20 shift i32 | 24 id u64
//! 32  codes: n_features × n_rows × code_width, column-major, zero-padded to a multiple of 8
//! ..  gamma: n_rows × n_arms i64, row-major (the histogram adds a row's K rewards together)
//! ```
//! The id names one build of a block (random per process and build, never 0 for a built block; 0 in a
//! block made otherwise): every copy of those bytes carries it, a rebuilt block gets another, so the
//! executor's decoded-block cache (`block_cache`) can serve these exact bytes by id.

use crate::binning::{codes_for, validate_edges, Binner};
use crate::config::BlockConfig;
use crate::feature_batch::float64_columns;
use crate::fixed_point::{quantize, scale};
use crate::{invalid, PolicyError, Result};
use arrow_array::{Array, Float64Array, RecordBatch};

const MAGIC: &[u8; 4] = b"SPB1";
const HEADER: usize = 32;

/// Feature codes of a block, one contiguous column per feature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Codes {
    U8(Vec<u8>),
    U16(Vec<u16>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrainingBlock {
    pub n_rows: usize,
    pub n_features: usize,
    pub n_arms: usize,
    pub shift: i32,
    pub codes: Codes,
    /// Fixed-point Γ, row-major.
    pub gamma: Vec<i64>,
    /// The build's id (see the module doc), 0 when none.
    pub id: u64,
}

impl TrainingBlock {
    pub fn code_width(&self) -> usize {
        match self.codes {
            Codes::U8(_) => 1,
            Codes::U16(_) => 2,
        }
    }

    pub fn code(&self, feature: usize, row: usize) -> usize {
        let i = feature * self.n_rows + row;
        match &self.codes {
            Codes::U8(c) => c[i] as usize,
            Codes::U16(c) => c[i] as usize,
        }
    }

    /// The header these rows are encoded with.
    pub fn header(&self) -> BlockHeader {
        BlockHeader {
            n_rows: self.n_rows,
            n_features: self.n_features,
            n_arms: self.n_arms,
            code_width: self.code_width(),
            shift: self.shift,
            id: self.id,
        }
    }

    /// The length of `encode()`, without encoding.
    pub fn encoded_len(&self) -> usize {
        self.header().sizes().expect("a block in memory has a representable size").2
    }

    pub fn encode(&self) -> Vec<u8> {
        let h = self.header();
        let (_, padded, total) = h.sizes().expect("a block in memory has a representable size");
        let mut out = Vec::with_capacity(total);
        out.extend_from_slice(MAGIC);
        for v in [h.n_rows, h.n_features, h.n_arms, h.code_width] {
            out.extend_from_slice(&(v as u32).to_le_bytes());
        }
        out.extend_from_slice(&h.shift.to_le_bytes());
        out.extend_from_slice(&h.id.to_le_bytes());
        match &self.codes {
            Codes::U8(c) => out.extend_from_slice(c),
            Codes::U16(c) => c.iter().for_each(|v| out.extend_from_slice(&v.to_le_bytes())),
        }
        out.resize(HEADER + padded, 0);
        self.gamma.iter().for_each(|g| out.extend_from_slice(&g.to_le_bytes()));
        out
    }

    pub fn decode(bytes: &[u8]) -> Result<TrainingBlock> {
        let h = BlockHeader::read(bytes)?;
        let (code_bytes, padded, expected) =
            h.sizes().ok_or_else(|| PolicyError::InvalidInput("training block header overflows".into()))?;
        if bytes.len() != expected {
            return invalid!("training block is {} bytes but its header implies {expected}", bytes.len());
        }
        let code_slice = &bytes[HEADER..HEADER + code_bytes];
        let codes = if h.code_width == 1 {
            Codes::U8(code_slice.to_vec())
        } else {
            Codes::U16(code_slice.chunks_exact(2).map(|c| u16::from_le_bytes([c[0], c[1]])).collect())
        };
        let gamma = bytes[HEADER + padded..].chunks_exact(8).map(|c| i64::from_le_bytes(c.try_into().unwrap())).collect();
        Ok(TrainingBlock { n_rows: h.n_rows, n_features: h.n_features, n_arms: h.n_arms, shift: h.shift, codes, gamma, id: h.id })
    }
}

/// The fixed first 32 bytes of every block (the layout in the module doc).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlockHeader {
    pub n_rows: usize,
    pub n_features: usize,
    pub n_arms: usize,
    pub code_width: usize,
    pub shift: i32,
    pub id: u64,
}

impl BlockHeader {
    /// The header at the start of `bytes` (a whole block, or at least its first 32 bytes).
    pub fn read(bytes: &[u8]) -> Result<BlockHeader> {
        if bytes.len() < HEADER || &bytes[0..4] != MAGIC {
            return invalid!("not a training block: expected magic SPB1 and at least {HEADER} bytes, got {} bytes", bytes.len());
        }
        let u32_at = |o: usize| u32::from_le_bytes(bytes[o..o + 4].try_into().unwrap()) as usize;
        let code_width = u32_at(16);
        if code_width != 1 && code_width != 2 {
            return invalid!("training block has code width {code_width}; expected 1 or 2");
        }
        Ok(BlockHeader {
            n_rows: u32_at(4),
            n_features: u32_at(8),
            n_arms: u32_at(12),
            code_width,
            shift: i32::from_le_bytes(bytes[20..24].try_into().unwrap()),
            id: u64::from_le_bytes(bytes[24..32].try_into().unwrap()),
        })
    }

    /// (code bytes, code bytes padded to 8, whole block length), or None when they overflow.
    fn sizes(&self) -> Option<(usize, usize, usize)> {
        let code_bytes = self.n_features.checked_mul(self.n_rows)?.checked_mul(self.code_width)?;
        let padded = code_bytes.div_ceil(8) * 8;
        let total = self.n_rows.checked_mul(self.n_arms)?.checked_mul(8)?.checked_add(HEADER + padded)?;
        Some((code_bytes, padded, total))
    }
}

/// Accumulates Arrow batches (F feature columns, then K reward columns, all Float64) into one block.
pub struct BlockBuilder {
    edges: Vec<Binner>,
    n_arms: usize,
    shift: i32,
    scale: f64,
    unscaled_from: usize,
    wide: bool,
    codes: Vec<Vec<u16>>,
    gamma: Vec<i64>,
    n_rows: usize,
    /// Feature columns of checked batches, not binned yet (their rewards are in `gamma` already).
    pending: Vec<Vec<Float64Array>>,
    pending_values: usize,
}

/// Feature values held back before binning them a feature at a time over all held batches: a feature's
/// edges and index (hundreds of KB with exact thresholds) are then loaded into cache once per 4M values
/// rather than once per batch, where binning waited on memory for most values.
const PENDING_VALUES: usize = 4 << 20;

impl BlockBuilder {
    pub fn new(config: &BlockConfig, flat_edges: &[f64]) -> Result<BlockBuilder> {
        let total = config.edge_counts.iter().try_fold(0usize, |a, &n| a.checked_add(n));
        if total != Some(flat_edges.len()) {
            let total = total.map_or("an overflowing number of".to_string(), |t| t.to_string());
            return invalid!("block config lists {total} boundary values but {} were passed", flat_edges.len());
        }
        if config.n_arms < 2 {
            return invalid!("a policy needs at least 2 arms, got {}", config.n_arms);
        }
        let mut edges = Vec::with_capacity(config.edge_counts.len());
        let mut offset = 0;
        for (f, &n) in config.edge_counts.iter().enumerate() {
            let e = flat_edges[offset..offset + n].to_vec();
            validate_edges(f, &e)?;
            if codes_for(&e) > u16::MAX as usize + 1 {
                return invalid!("feature {f} has {n} boundaries; at most 65,534 are supported");
            }
            offset += n;
            edges.push(Binner::new(e));
        }
        let wide = edges.iter().any(|e| codes_for(e.edges()) > 256);
        Ok(BlockBuilder {
            codes: vec![Vec::new(); edges.len()],
            edges,
            n_arms: config.n_arms,
            shift: config.shift,
            scale: scale(config.shift),
            unscaled_from: config.unscaled_from.unwrap_or(config.n_arms),
            wide,
            gamma: Vec::new(),
            n_rows: 0,
            pending: Vec::new(),
            pending_values: 0,
        })
    }

    /// Appends a batch. Every column is checked before anything is appended, so an error leaves the
    /// builder as it was.
    pub fn push(&mut self, batch: &RecordBatch) -> Result<()> {
        let f = self.edges.len();
        let k = self.n_arms;
        if batch.num_columns() != f + k {
            return invalid!("training batch has {} columns; expected {f} features + {k} rewards", batch.num_columns());
        }
        let columns = float64_columns(batch, f + k, "training")?;
        let n = batch.num_rows();
        for (a, col) in columns[f..].iter().enumerate() {
            if let Some(r) = (0..n).find(|&r| col.is_null(r) || !col.value(r).is_finite()) {
                // The driver validates rewards before binning; reaching this is a bug upstream.
                return Err(PolicyError::Internal(format!("reward column {a} has a null or non-finite value at batch row {r}")));
            }
        }
        let grow =
            |len: usize, extra: usize| len.checked_add(extra).ok_or_else(|| PolicyError::InvalidInput("training block too large".into()));
        self.gamma.try_reserve(grow(0, n * k)?).map_err(|_| PolicyError::InvalidInput(format!("cannot allocate rewards for {n} rows")))?;
        for codes in &mut self.codes {
            codes.try_reserve(n).map_err(|_| PolicyError::InvalidInput(format!("cannot allocate codes for {n} rows")))?;
        }
        let start = self.gamma.len();
        self.gamma.resize(start + n * k, 0);
        for (a, col) in columns[f..].iter().enumerate() {
            let unit = if a >= self.unscaled_from { 1.0 } else { self.scale };
            for (r, g) in col.values().iter().enumerate() {
                self.gamma[start + r * k + a] = quantize(*g, unit);
            }
        }
        self.n_rows = grow(self.n_rows, n)?;
        self.pending_values += n * f;
        self.pending.push(columns[..f].iter().map(|c| (*c).clone()).collect());
        if self.pending_values >= PENDING_VALUES {
            self.bin_pending();
        }
        Ok(())
    }

    /// Codes the held batches' features (checked by `push`), a feature at a time.
    fn bin_pending(&mut self) {
        for (i, (codes, edges)) in self.codes.iter_mut().zip(&self.edges).enumerate() {
            for columns in &self.pending {
                let col = &columns[i];
                codes.extend((0..col.len()).map(|r| edges.code(if col.is_null(r) { f64::NAN } else { col.value(r) }) as u16));
            }
        }
        self.pending.clear();
        self.pending_values = 0;
    }

    pub fn finish(mut self) -> TrainingBlock {
        self.bin_pending();
        let codes = if self.wide {
            Codes::U16(self.codes.into_iter().flatten().collect())
        } else {
            Codes::U8(self.codes.into_iter().flatten().map(|c| c as u8).collect())
        };
        TrainingBlock {
            n_rows: self.n_rows,
            n_features: self.edges.len(),
            n_arms: self.n_arms,
            shift: self.shift,
            codes,
            gamma: self.gamma,
            id: crate::block_cache::fresh_id(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::ArrayRef;
    use std::sync::Arc;

    #[test]
    fn builder_bins_quantizes_and_round_trips() {
        let config = BlockConfig { n_arms: 2, edge_counts: vec![2, 1], shift: 4, unscaled_from: None };
        let mut b = BlockBuilder::new(&config, &[0.5, 1.5, 10.0]).unwrap();
        let cols: Vec<ArrayRef> = vec![
            Arc::new(Float64Array::from(vec![Some(0.1), None, Some(2.0)])),
            Arc::new(Float64Array::from(vec![10.0, 11.0, f64::NAN])),
            Arc::new(Float64Array::from(vec![1.0, -0.5, 0.0])),
            Arc::new(Float64Array::from(vec![0.25, 0.0, 3.0])),
        ];
        let batch = RecordBatch::try_from_iter(cols.into_iter().enumerate().map(|(i, c)| (format!("c{i}"), c))).unwrap();
        b.push(&batch).unwrap();
        let block = b.finish();
        assert_eq!(block.codes, Codes::U8(vec![0, 3, 2, 0, 1, 2]));
        assert_eq!(block.gamma, vec![16, 4, -8, 0, 0, 48]);
        assert_eq!(TrainingBlock::decode(&block.encode()).unwrap(), block);
    }

    #[test]
    fn held_batches_are_coded_as_each_value_alone() {
        // Two features over 1,024 exact edges, batches past PENDING_VALUES: coded part-way and at finish.
        let edges: Vec<f64> = (0..1024).map(|i| i as f64 / 1024.0).collect();
        let config = BlockConfig { n_arms: 2, edge_counts: vec![1024, 1024], shift: 0, unscaled_from: None };
        let mut b = BlockBuilder::new(&config, &[edges.clone(), edges.clone()].concat()).unwrap();
        let rows = PENDING_VALUES / 2 / 3 + 7;
        let value = |i: usize| if i.is_multiple_of(101) { None } else { Some((i.wrapping_mul(2654435761) % 10_007) as f64 / 10_007.0) };
        let mut expected = [Vec::new(), Vec::new()];
        for part in 0..4 {
            let xs: Vec<Option<f64>> = (0..rows).map(|r| value(part * rows + r)).collect();
            let ys: Vec<Option<f64>> = xs.iter().map(|x| x.map(|v| 1.0 - v)).collect();
            for (e, col) in expected.iter_mut().zip([&xs, &ys]) {
                e.extend(col.iter().map(|x| crate::binning::bin_code(&edges, x.unwrap_or(f64::NAN)) as u16));
            }
            let cols: Vec<ArrayRef> = vec![
                Arc::new(Float64Array::from(xs)),
                Arc::new(Float64Array::from(ys)),
                Arc::new(Float64Array::from(vec![0.0; rows])),
                Arc::new(Float64Array::from(vec![1.0; rows])),
            ];
            b.push(&RecordBatch::try_from_iter(cols.into_iter().enumerate().map(|(i, c)| (format!("c{i}"), c))).unwrap()).unwrap();
            assert!(b.pending_values < PENDING_VALUES);
        }
        let block = b.finish();
        assert_eq!(block.codes, Codes::U16(expected.concat()));
        assert_eq!(block.n_rows, 4 * rows);
    }

    #[test]
    fn unscaled_channels_are_stored_as_integers() {
        let config = BlockConfig { n_arms: 2, edge_counts: vec![1], shift: 4, unscaled_from: Some(1) };
        let mut b = BlockBuilder::new(&config, &[0.5]).unwrap();
        let cols: Vec<ArrayRef> = vec![
            Arc::new(Float64Array::from(vec![0.1, 0.9])),
            Arc::new(Float64Array::from(vec![1.5, -2.0])),
            Arc::new(Float64Array::from(vec![1.0, 3.0])),
        ];
        b.push(&RecordBatch::try_from_iter(cols.into_iter().enumerate().map(|(i, c)| (format!("c{i}"), c))).unwrap()).unwrap();
        assert_eq!(b.finish().gamma, vec![24, 1, -32, 3]);
    }

    #[test]
    fn decode_rejects_truncated_and_foreign_bytes() {
        assert!(TrainingBlock::decode(b"garbage").unwrap_err().to_string().contains("not a training block"));
        let block = TrainingBlock {
            n_rows: 3,
            n_features: 1,
            n_arms: 2,
            shift: 0,
            codes: Codes::U8(vec![1, 2, 3]),
            gamma: vec![1, 2, 3, 4, 5, 6],
            id: 7,
        };
        let mut bytes = block.encode();
        bytes.pop();
        assert!(TrainingBlock::decode(&bytes).unwrap_err().to_string().contains("header implies"));
        let mut width = block.encode();
        width[16] = 3;
        assert!(TrainingBlock::decode(&width).unwrap_err().to_string().contains("code width 3"));
    }

    #[test]
    fn wide_and_empty_blocks_round_trip() {
        let wide = TrainingBlock {
            n_rows: 3,
            n_features: 2,
            n_arms: 2,
            shift: -7,
            codes: Codes::U16(vec![0, 300, 65535, 1, 2, 3]),
            gamma: vec![i64::MIN, -1, 0, 1, 2, i64::MAX],
            id: u64::MAX,
        };
        let bytes = wide.encode();
        assert_eq!(bytes.len(), 32 + 16 + 48);
        assert_eq!(TrainingBlock::decode(&bytes).unwrap(), wide);
        let empty = TrainingBlock { n_rows: 0, n_features: 4, n_arms: 3, shift: 0, codes: Codes::U8(vec![]), gamma: vec![], id: 0 };
        assert_eq!(TrainingBlock::decode(&empty.encode()).unwrap(), empty);
    }
}

//! The split record, the one format `bestSplit` returns (a `long[]`), decoded by `SplitRecord.scala`.
//!
//! A flat i64 array of `16 + 3·(K+1) + 4·n` longs, where K+1 is the histogram stride (channels + count)
//! and n the number of coarse bins to refine:
//! ```text
//! 0   best candidate:      present (1/0), feature, threshold_bin, missing_left (1/0), reward_hi, reward_lo
//! 6   runner-up candidate: the same six longs
//! 12  n                    bins to refine (`split::RefineBin`)
//! 13  left out:            present (1/0), bound_hi, bound_lo: the largest bound of the bins not listed
//! 16  totals     K sums, count   (the node)
//! ..  best.left  K sums, count   (zeros when there is no best candidate)
//! ..  best.right K sums, count   (zeros when there is no best candidate)
//! ..  n × [feature, coarse bin, bound_hi, bound_lo]
//! ```
//! Thresholds are the block's (fine) codes.
//! An absent candidate is `[0, −1, −1, 0, 0, 0]`. A reward or bound is the i128 `(hi << 64) | (lo as u64)`.
//! For `wireRoundTrip` the same longs travel as little-endian bytes (8 a long).

use crate::split::{BlockBest, RefineBin, SplitCandidate};
use crate::{invalid, Result};

/// Longs of one candidate in a split record.
pub const CANDIDATE_LEN: usize = 6;
const ABSENT: [i64; CANDIDATE_LEN] = [0, -1, -1, 0, 0, 0];
/// Longs of one bin to refine.
const BIN_LEN: usize = 4;
/// Longs before the sums: two candidates, the bin count, the left-out bound.
const HEAD_LEN: usize = 2 * CANDIDATE_LEN + 4;

/// One candidate as the record carries it: its sums travel only for the best one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordCandidate {
    pub feature: usize,
    pub threshold_bin: usize,
    pub missing_left: bool,
    pub reward: i128,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SplitRecord {
    pub best: Option<RecordCandidate>,
    pub runner_up: Option<RecordCandidate>,
    /// Each K sums and the count; `left` and `right` are those of the best split (zeros without one).
    pub totals: Vec<i64>,
    pub left: Vec<i64>,
    pub right: Vec<i64>,
    pub refine: Vec<RefineBin>,
    pub left_out: Option<i128>,
}

impl From<&SplitCandidate> for RecordCandidate {
    fn from(c: &SplitCandidate) -> Self {
        RecordCandidate { feature: c.feature, threshold_bin: c.threshold_bin, missing_left: c.missing_left, reward: c.reward }
    }
}

impl SplitRecord {
    /// The record of a node's totals and the block's best split with its runner-up.
    pub fn new(totals: Vec<i64>, result: &BlockBest) -> SplitRecord {
        let (left, right) = match &result.best {
            Some(c) => (c.left.clone(), c.right.clone()),
            None => (vec![0; totals.len()], vec![0; totals.len()]),
        };
        SplitRecord {
            best: result.best.as_ref().map(RecordCandidate::from),
            runner_up: result.runner_up.as_ref().map(RecordCandidate::from),
            totals,
            left,
            right,
            refine: result.refine.clone(),
            left_out: result.left_out,
        }
    }

    pub fn encode(&self) -> Vec<i64> {
        let mut out = Vec::with_capacity(HEAD_LEN + 3 * self.totals.len() + BIN_LEN * self.refine.len());
        for c in [&self.best, &self.runner_up] {
            encode_candidate(c.as_ref(), &mut out);
        }
        out.push(self.refine.len() as i64);
        match self.left_out {
            Some(b) => out.extend_from_slice(&[1, (b >> 64) as i64, b as i64]),
            None => out.extend_from_slice(&[0, 0, 0]),
        }
        out.extend_from_slice(&self.totals);
        out.extend_from_slice(&self.left);
        out.extend_from_slice(&self.right);
        for b in &self.refine {
            out.extend_from_slice(&[b.feature as i64, b.bin as i64, (b.bound >> 64) as i64, b.bound as i64]);
        }
        out
    }

    /// The record `encode` wrote; the stride follows from the length and the bin count. Anything
    /// `encode` cannot write (a flag other than 0/1, a negative index, sums without a best split) is refused.
    pub fn decode(rec: &[i64]) -> Result<SplitRecord> {
        let base = HEAD_LEN;
        let n = rec.get(2 * CANDIDATE_LEN).copied().unwrap_or(-1);
        let sums_len = (rec.len() as i64 - base as i64).saturating_sub((BIN_LEN as i64).saturating_mul(n.max(0)));
        if rec.len() < base || n < 0 || sums_len < 6 || sums_len % 3 != 0 {
            return invalid!("a split record has 16 + 3·(K+1) + 4·n longs with K ≥ 1 and n ≥ 0 bins, got {} (n = {n})", rec.len());
        }
        let lo = &rec[2 * CANDIDATE_LEN + 1..base];
        let left_out = match lo[0] {
            0 if lo[1] == 0 && lo[2] == 0 => None,
            1 => Some(((lo[1] as i128) << 64) | (lo[2] as u64 as i128)),
            _ => return invalid!("split record's left-out bound {lo:?} is neither [0, 0, 0] nor [1, hi, lo]"),
        };
        let stride = (sums_len / 3) as usize;
        let sums = |i: usize| rec[base + i * stride..base + (i + 1) * stride].to_vec();
        let bins_at = base + 3 * stride;
        let refine = rec[bins_at..]
            .chunks_exact(BIN_LEN)
            .map(|b| {
                if b[0] < 0 || b[1] < 0 {
                    return invalid!("split record's bin to refine {b:?} has a negative feature or bin");
                }
                Ok(RefineBin { feature: b[0] as usize, bin: b[1] as usize, bound: ((b[2] as i128) << 64) | (b[3] as u64 as i128) })
            })
            .collect::<Result<Vec<_>>>()?;
        let record = SplitRecord {
            best: decode_candidate(rec, 0, "best")?,
            runner_up: decode_candidate(rec, CANDIDATE_LEN, "runner-up")?,
            totals: sums(0),
            left: sums(1),
            right: sums(2),
            refine,
            left_out,
        };
        if record.best.is_none() && record.left.iter().chain(&record.right).any(|&v| v != 0) {
            return invalid!("split record has left/right sums but no best candidate");
        }
        Ok(record)
    }

    /// The longs as little-endian bytes, as `wireRoundTrip` carries them.
    pub fn to_le_bytes(&self) -> Vec<u8> {
        self.encode().iter().flat_map(|v| v.to_le_bytes()).collect()
    }

    pub fn from_le_bytes(bytes: &[u8]) -> Result<SplitRecord> {
        if !bytes.len().is_multiple_of(8) {
            return invalid!("a split record is whole little-endian longs, got {} bytes", bytes.len());
        }
        let longs: Vec<i64> = bytes.chunks_exact(8).map(|c| i64::from_le_bytes(c.try_into().expect("8 bytes"))).collect();
        SplitRecord::decode(&longs)
    }
}

/// One candidate's six longs (`[present, feature, threshold_bin, missing_left, reward_hi, reward_lo]`),
/// the encoding every record that carries candidates uses (`pair_record` too).
pub fn encode_candidate(c: Option<&RecordCandidate>, out: &mut Vec<i64>) {
    match c {
        Some(c) => out.extend_from_slice(&[
            1,
            c.feature as i64,
            c.threshold_bin as i64,
            c.missing_left as i64,
            (c.reward >> 64) as i64,
            c.reward as i64,
        ]),
        None => out.extend_from_slice(&ABSENT),
    }
}

/// The candidate `encode_candidate` wrote at `rec[at..]`; `which` names it in errors.
pub fn decode_candidate(rec: &[i64], at: usize, which: &str) -> Result<Option<RecordCandidate>> {
    let c = &rec[at..at + CANDIDATE_LEN];
    match c[0] {
        0 if c == ABSENT => Ok(None),
        0 => invalid!("split record's absent {which} candidate is {c:?}; expected {ABSENT:?}"),
        1 if c[1] >= 0 && c[2] >= 0 && (c[3] == 0 || c[3] == 1) => Ok(Some(RecordCandidate {
            feature: c[1] as usize,
            threshold_bin: c[2] as usize,
            missing_left: c[3] == 1,
            reward: ((c[4] as i128) << 64) | (c[5] as u64 as i128),
        })),
        1 => invalid!("split record's {which} candidate {c:?} has a negative index or a missing_left other than 0/1"),
        flag => invalid!("split record's {which} candidate has presence flag {flag}; expected 0 or 1"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bins() -> Vec<RefineBin> {
        vec![RefineBin { feature: 3, bin: 9, bound: -2 }, RefineBin { feature: 4, bin: 0, bound: (1i128 << 70) + 5 }]
    }

    fn candidate(reward: i128) -> SplitCandidate {
        SplitCandidate { feature: 2, threshold_bin: 5, missing_left: true, reward, left: vec![1, 2, 3], right: vec![4, 5, 6] }
    }

    #[test]
    fn reward_record_keeps_i128_exact() {
        let c = candidate((1i128 << 63) + 7);
        let rec = SplitRecord::new(
            vec![5, 7, 9],
            &BlockBest { best: Some(c.clone()), runner_up: Some(candidate(-3)), refine: vec![], left_out: None },
        )
        .encode();
        assert_eq!(((rec[4] as i128) << 64) | (rec[5] as u64 as i128), c.reward);
        assert_eq!(((rec[10] as i128) << 64) | (rec[11] as u64 as i128), -3);
        assert_eq!(rec.len(), 16 + 9);
        assert_eq!(&rec[12..], &[0, 0, 0, 0, 5, 7, 9, 1, 2, 3, 4, 5, 6]);
        let with =
            SplitRecord::new(vec![5, 7, 9], &BlockBest { best: Some(c), runner_up: None, refine: bins(), left_out: Some(-7) }).encode();
        assert_eq!(&with[12..16], &[2, 1, -1, -7]);
        assert_eq!(&with[25..], &[3, 9, -1, -2, 4, 0, 64, 5]);
    }

    #[test]
    fn round_trips_with_and_without_candidates() {
        for result in [
            BlockBest { best: Some(candidate(i128::MIN)), runner_up: Some(candidate(i128::MAX)), refine: bins(), left_out: Some(-7) },
            BlockBest { best: Some(candidate(0)), runner_up: None, refine: vec![], left_out: None },
            BlockBest { best: None, runner_up: None, refine: bins(), left_out: Some(-7) },
            BlockBest::default(),
        ] {
            let record = SplitRecord::new(vec![5, 7, 9], &result);
            assert_eq!(SplitRecord::decode(&record.encode()).unwrap(), record);
            assert_eq!(SplitRecord::from_le_bytes(&record.to_le_bytes()).unwrap(), record);
        }
        let empty = SplitRecord::new(vec![1, 2], &BlockBest::default()).encode();
        assert_eq!(empty, vec![0, -1, -1, 0, 0, 0, 0, -1, -1, 0, 0, 0, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0]);
    }

    #[test]
    fn refuses_what_encode_cannot_write() {
        let good =
            SplitRecord::new(vec![5, 7, 9], &BlockBest { best: Some(candidate(1)), runner_up: None, refine: bins(), left_out: Some(-7) })
                .encode();
        let err = |rec: &[i64]| SplitRecord::decode(rec).unwrap_err().to_string();
        assert!(err(&good[..good.len() - 1]).contains("16 + 3·(K+1) + 4·n longs"));
        assert!(err(&good[..15]).contains("got 15"));
        let mut negative = good.clone();
        negative[25] = -4;
        let mut sloppy = good.clone();
        sloppy[13] = 2;
        assert!(err(&sloppy).contains("left-out bound"));
        assert!(err(&negative).contains("negative feature or bin"));
        let mut flag = good.clone();
        flag[0] = 2;
        assert!(err(&flag).contains("presence flag 2"));
        let mut side = good.clone();
        side[3] = 7;
        assert!(err(&side).contains("missing_left"));
        let mut absent = good.clone();
        absent[7] = 3;
        assert!(err(&absent).contains("absent runner-up"));
        let mut orphan = SplitRecord::new(vec![5, 7, 9], &BlockBest::default()).encode();
        orphan[20] = 1;
        assert!(err(&orphan).contains("no best candidate"));
        assert!(SplitRecord::from_le_bytes(&[0; 7]).unwrap_err().to_string().contains("7 bytes"));
    }
}

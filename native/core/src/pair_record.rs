//! The pair record, the one format `bestSubtree` returns (a `long[]`), decoded by `PairRecord.scala`:
//! a split record (`split_record`, no bins to refine) followed by a children trailer.
//!
//! ```text
//! 0     split record  16 + 3·(K+1) longs: best = the root split of the best depth-2 subtree, its
//!                     reward the subtree's; left/right = the root split's sums; runner-up = the best
//!                     root on another root feature of the block; no bins to refine (n = 0)
//! end−12 left child:  six longs, a candidate as the split record writes one (`encode_candidate`):
//!                     the split the subtree puts in the root's left child (absent: a leaf)
//! end−6  right child: the same for the right child
//! ```
//! Thresholds are fine codes. A child's reward is its own split's reward. The decoder refuses bins
//! to refine, and children without a best root split. The record's prefix is a valid split record, so
//! the driver's reducer consumes it as it consumes the greedy search's.

use crate::pair_search::SubtreeBest;
use crate::split_record::{decode_candidate, encode_candidate, RecordCandidate, SplitRecord, CANDIDATE_LEN};
use crate::{invalid, Result};

/// Longs after the split record: the two children.
pub const TRAILER_LEN: usize = 2 * CANDIDATE_LEN;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PairRecord {
    pub split: SplitRecord,
    pub left_child: Option<RecordCandidate>,
    pub right_child: Option<RecordCandidate>,
}

impl PairRecord {
    pub fn new(totals: Vec<i64>, result: &SubtreeBest) -> PairRecord {
        PairRecord {
            split: SplitRecord::new(totals, &result.block_best()),
            left_child: result.left_child.as_ref().map(RecordCandidate::from),
            right_child: result.right_child.as_ref().map(RecordCandidate::from),
        }
    }

    pub fn encode(&self) -> Vec<i64> {
        let mut out = self.split.encode();
        encode_candidate(self.left_child.as_ref(), &mut out);
        encode_candidate(self.right_child.as_ref(), &mut out);
        out
    }

    pub fn decode(rec: &[i64]) -> Result<PairRecord> {
        if rec.len() < TRAILER_LEN {
            return invalid!("a pair record is a split record and {TRAILER_LEN} longs, got {}", rec.len());
        }
        let at = rec.len() - TRAILER_LEN;
        let split = SplitRecord::decode(&rec[..at])?;
        if !split.refine.is_empty() {
            return invalid!("a pair record's split record has bins to refine; the pair search has none");
        }
        let left_child = decode_candidate(rec, at, "left child")?;
        let right_child = decode_candidate(rec, at + CANDIDATE_LEN, "right child")?;
        if split.best.is_none() && (left_child.is_some() || right_child.is_some()) {
            return invalid!("pair record has children splits but no best root split");
        }
        Ok(PairRecord { split, left_child, right_child })
    }

    /// The longs as little-endian bytes, as `wireRoundTrip` carries them.
    pub fn to_le_bytes(&self) -> Vec<u8> {
        self.encode().iter().flat_map(|v| v.to_le_bytes()).collect()
    }

    pub fn from_le_bytes(bytes: &[u8]) -> Result<PairRecord> {
        if !bytes.len().is_multiple_of(8) {
            return invalid!("a pair record is whole little-endian longs, got {} bytes", bytes.len());
        }
        let longs: Vec<i64> = bytes.chunks_exact(8).map(|c| i64::from_le_bytes(c.try_into().expect("8 bytes"))).collect();
        PairRecord::decode(&longs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::split::SplitCandidate;

    fn candidate(feature: usize, reward: i128) -> SplitCandidate {
        SplitCandidate { feature, threshold_bin: 4, missing_left: false, reward, left: vec![1, 2, 3], right: vec![4, 5, 6] }
    }

    #[test]
    fn round_trips_and_ends_with_the_children() {
        let full = SubtreeBest {
            best: Some(candidate(1, 1 << 80)),
            runner_up: Some(candidate(0, 7)),
            left_child: Some(candidate(2, -5)),
            right_child: None,
        };
        for result in [full, SubtreeBest::default()] {
            let record = PairRecord::new(vec![5, 7, 9], &result);
            let longs = record.encode();
            assert_eq!(longs.len(), 16 + 9 + 12);
            assert_eq!(SplitRecord::decode(&longs[..25]).unwrap(), record.split);
            assert_eq!(PairRecord::decode(&longs).unwrap(), record);
            assert_eq!(PairRecord::from_le_bytes(&record.to_le_bytes()).unwrap(), record);
        }
        let rec = PairRecord::new(
            vec![5, 7, 9],
            &SubtreeBest { best: Some(candidate(1, 3)), left_child: Some(candidate(2, -5)), ..Default::default() },
        );
        assert_eq!(&rec.encode()[25..], &[1, 2, 4, 0, -1, -5, 0, -1, -1, 0, 0, 0]);
    }

    #[test]
    fn refuses_orphan_children_and_bins() {
        let err = |rec: &[i64]| PairRecord::decode(rec).unwrap_err().to_string();
        let mut orphan = PairRecord::new(vec![5, 7, 9], &SubtreeBest::default()).encode();
        orphan[25..31].copy_from_slice(&[1, 0, 0, 0, 0, 1]);
        assert!(err(&orphan).contains("no best root split"));
        let mut binned = PairRecord::new(vec![5, 7, 9], &SubtreeBest { best: Some(candidate(1, 3)), ..Default::default() }).encode();
        binned[12] = 1;
        binned.splice(25..25, [0, 1, 0, 9]);
        assert!(err(&binned).contains("bins to refine"));
        let mut flag = PairRecord::new(vec![5, 7, 9], &SubtreeBest::default()).encode();
        flag[31] = 3;
        assert!(err(&flag).contains("right child"));
        assert!(err(&[1, 2]).contains("12 longs"));
    }
}

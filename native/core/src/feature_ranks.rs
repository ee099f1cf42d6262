//! A forest's split values per feature, for walking rows as small integers instead of doubles: every
//! threshold (and categorical code) of every tree on feature f, sorted and deduplicated, so a row's
//! value x is replaced, once per tile, by its **rank code**
//!
//! `q(x) = 0` when x is missing (null or NaN), else `q(x) = 1 + 2·#{t < x} + [x is not one of the t]`,
//!
//! and each split compares codes. This is exact, not an approximation: with the split values sorted
//! `t_0 < t_1 < …`, `x <= t_j ⟺ #{t < x} <= j ⟺ q(x) <= 2j + 2`, and `x == t_j ⟺ q(x) == 2j + 1`
//! (f64 comparisons throughout, so -0.0 and 0.0 are one value, as in the scorer). A numeric split on
//! t_j goes left for codes `1 ..= 2j + 2`, a categorical one on code t_j for `2j + 1 ..= 2j + 1`; a
//! missing value (code 0) lies below every such range and goes left only by the learned side.
//!
//! Why: a forest reads each row tens of times per tree but ranks it once; four-byte codes compared as
//! integers walk twice as many rows per vector instruction as doubles, and the steps shrink to 12 bytes.

use crate::node_table::NodeTable;
use crate::scoring::ScoringRows;
use arrow_array::Array;

/// Rows searched together (see `rank`).
const LANES: usize = 64;

/// One feature's split values, ascending, padded with NaN to a power of two longer than them (a NaN
/// is never below x, nor equal to it, so a padded slot reads as "above every x").
#[derive(Debug, Clone)]
struct Sorted {
    values: Vec<f64>,
    /// Distinct split values (before padding).
    len: usize,
}

#[derive(Debug, Clone)]
pub(crate) struct FeatureRanks {
    features: Vec<Sorted>,
}

impl FeatureRanks {
    /// The split values of every tree, per feature; `None` when one is NaN (such a split sends every
    /// value right, which no range of codes says, so the forest keeps the double walk).
    pub fn of(tables: &[NodeTable], n_features: usize) -> Option<FeatureRanks> {
        let mut per: Vec<Vec<f64>> = vec![Vec::new(); n_features];
        for n in tables.iter().flat_map(|t| &t.nodes).filter(|n| !n.is_leaf) {
            if n.threshold.is_nan() {
                return None;
            }
            per.get_mut(n.feature as usize)?.push(n.threshold);
        }
        let features = per
            .into_iter()
            .map(|mut v| {
                v.sort_by(f64::total_cmp);
                v.dedup_by(|a, b| a == b);
                let len = v.len();
                v.resize((len + 1).next_power_of_two(), f64::NAN);
                Sorted { values: v, len }
            })
            .collect();
        Some(FeatureRanks { features })
    }

    /// The largest code any value can have.
    pub fn max_code(&self) -> u32 {
        self.features.iter().map(|s| 2 * s.len as u32 + 2).max().unwrap_or(2)
    }

    /// The codes a split on `feature` at `threshold` sends left, as `(lo, hi)`: see the module doc.
    pub fn left_codes(&self, feature: usize, threshold: f64, categorical: bool) -> (u32, u32) {
        let s = &self.features[feature];
        let j = s.values[..s.len].partition_point(|&t| t < threshold) as u32;
        if categorical {
            (2 * j + 1, 2 * j + 1)
        } else {
            (1, 2 * j + 2)
        }
    }

    /// Writes the codes of rows `from .. from + out.len()` of feature f into `out`. The search runs
    /// `LANES` rows at a time, level by level over them (each row's next probe is independent of the next
    /// row's, as in the walk, and the lanes stay in registers): `log2` of the padded length passes, each
    /// adding half the remaining width where the probe is below x.
    #[inline(always)]
    pub fn rank(&self, rows: &ScoringRows, f: usize, from: usize, out: &mut [u32]) {
        let s = &self.features[f];
        let mask = s.values.len() - 1;
        let t = &s.values[..=mask];
        let xs = &rows.raw[f][from..from + out.len()];
        for (out, xs) in out.chunks_mut(LANES).zip(xs.chunks(LANES)) {
            let mut x = [f64::NAN; LANES];
            x[..xs.len()].copy_from_slice(xs);
            let mut pos = [0u32; LANES];
            let mut width = s.values.len() / 2;
            while width > 0 {
                for (pos, &x) in pos.iter_mut().zip(&x) {
                    let probe = t[(*pos as usize + width - 1) & mask];
                    *pos += (probe < x) as u32 * width as u32;
                }
                width /= 2;
            }
            for ((q, &pos), &x) in out.iter_mut().zip(&pos).zip(&x) {
                let member = t[pos as usize & mask] == x;
                *q = if x.is_nan() { 0 } else { 1 + 2 * pos + (!member) as u32 };
            }
        }
        let col = rows.cols[f];
        if col.null_count() > 0 {
            for (r, q) in out.iter_mut().enumerate() {
                if col.is_null(from + r) {
                    *q = 0;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::node_table::tests::{leaf, split};
    use arrow_array::{ArrayRef, Float64Array, RecordBatch};
    use std::sync::Arc;

    fn table(thresholds: &[(f64, bool)]) -> NodeTable {
        // Splits need not form a reachable tree here: only their values are read.
        let mut nodes: Vec<_> = thresholds
            .iter()
            .enumerate()
            .map(|(i, &(t, cat))| {
                let mut s = split(i as u32 + 1, 0, t, 0, true, 2);
                s.categorical = cat;
                s
            })
            .collect();
        nodes.push(leaf(100, 0, vec![0.0, 0.0]));
        NodeTable { n_arms: 2, nodes }
    }

    #[test]
    fn codes_compare_exactly_as_the_doubles_do() {
        let splits =
            [(0.5, false), (-0.0, false), (2.0, true), (f64::INFINITY, false), (f64::NEG_INFINITY, false), (0.5, false), (3.0, true)];
        let ranks = FeatureRanks::of(&[table(&splits)], 1).unwrap();
        let xs: Vec<Option<f64>> = [
            None,
            Some(f64::NAN),
            Some(f64::NEG_INFINITY),
            Some(-1.0),
            Some(-0.0),
            Some(0.0),
            Some(0.25),
            Some(0.5),
            Some(1.0),
            Some(2.0),
            Some(3.0),
            Some(7.0),
            Some(f64::INFINITY),
        ]
        .to_vec();
        let batch = RecordBatch::try_from_iter([("x", Arc::new(Float64Array::from(xs.clone())) as ArrayRef)]).unwrap();
        let rows = ScoringRows::of(&batch, 1).unwrap();
        let mut q = vec![7; xs.len()];
        ranks.rank(&rows, 0, 0, &mut q);
        for (&(t, cat), _) in splits.iter().zip(0..) {
            let (lo, hi) = ranks.left_codes(0, t, cat);
            for (x, &code) in xs.iter().zip(&q) {
                let by_codes = (lo..=hi).contains(&code);
                let by_doubles = match x {
                    Some(x) if !x.is_nan() => {
                        if cat {
                            *x == t
                        } else {
                            *x <= t
                        }
                    }
                    _ => false,
                };
                assert_eq!(by_codes, by_doubles, "x = {x:?}, split at {t} (categorical: {cat}), code {code}, range {lo}..={hi}");
            }
        }
        assert_eq!((q[0], q[1]), (0, 0), "null and NaN are missing");
    }

    #[test]
    fn a_nan_threshold_or_an_unused_feature() {
        assert!(FeatureRanks::of(&[table(&[(f64::NAN, false)])], 1).is_none());
        let ranks = FeatureRanks::of(&[table(&[(1.0, false)])], 2).unwrap();
        let batch = RecordBatch::try_from_iter([
            ("a", Arc::new(Float64Array::from(vec![0.0, 2.0])) as ArrayRef),
            ("b", Arc::new(Float64Array::from(vec![5.0, f64::NAN])) as ArrayRef),
        ])
        .unwrap();
        let rows = ScoringRows::of(&batch, 2).unwrap();
        let mut q = vec![0; 2];
        ranks.rank(&rows, 1, 0, &mut q);
        assert_eq!(q, vec![2, 0], "no split values: every present value is code 2");
    }
}

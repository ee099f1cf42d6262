//! The histogram cell layout, the one format `kernelEmit` returns and `bestSplit` reads.
//!
//! One flat i64 array indexed `[node slot][feature][code][K sums, then the count]`: a node's
//! histogram is `node_len` cells, feature j's codes start at `feature_offsets[j]` inside it, and
//! each code holds `stride = K + 1` cells. Features have their own code counts (value bins + the
//! missing code, always last), in contract order of the range the layout was built for.
//!
//! A *bounded* feature (a coarse feature of an exact-threshold search) has, right after its codes,
//! one more section of `(codes − 1) × K` cells: per value bin, each arm's sum of the positive parts
//! max(Γ, 0) of the bin's rows. Those sums bound what any fine threshold inside the bin can reach
//! (`split::refine_bins`). Every cell is still an exact integer sum over rows, so merges and sibling
//! subtraction stay cell for cell.

use std::ops::Range;

/// Offsets of each feature's codes inside one node's histogram, for a feature range.
#[derive(Debug, Clone)]
pub struct HistogramLayout {
    pub n_arms: usize,
    pub feature_offsets: Vec<usize>,
    /// Per feature: where its bound section starts inside a node's histogram, if it has one.
    pub bound_offsets: Vec<Option<usize>>,
    /// Codes per feature.
    codes: Vec<usize>,
    /// i64 cells per node.
    pub node_len: usize,
}

impl HistogramLayout {
    pub fn new(n_arms: usize, codes_per_feature: &[usize]) -> HistogramLayout {
        HistogramLayout::with_bounds(n_arms, codes_per_feature, &[])
    }

    /// The layout with a bound section after the codes of each feature flagged in `bounded` (empty: none).
    pub fn with_bounds(n_arms: usize, codes_per_feature: &[usize], bounded: &[bool]) -> HistogramLayout {
        let stride = n_arms + 1;
        let mut feature_offsets = Vec::with_capacity(codes_per_feature.len());
        let mut bound_offsets = Vec::with_capacity(codes_per_feature.len());
        let mut off = 0;
        for (j, &c) in codes_per_feature.iter().enumerate() {
            feature_offsets.push(off);
            off += c * stride;
            if bounded.get(j).copied().unwrap_or(false) {
                bound_offsets.push(Some(off));
                off += (c - 1) * n_arms;
            } else {
                bound_offsets.push(None);
            }
        }
        HistogramLayout { n_arms, feature_offsets, bound_offsets, codes: codes_per_feature.to_vec(), node_len: off }
    }

    /// Feature `j`'s bound section `[value bin][K]` inside one node's histogram, if it has one.
    #[inline]
    pub fn bounds<'a>(&self, node_hist: &'a [i64], j: usize) -> Option<&'a [i64]> {
        self.bound_offsets[j].map(|o| &node_hist[o..o + (self.codes[j] - 1) * self.n_arms])
    }

    /// Cells of one code: K sums, then the count.
    #[inline]
    pub fn stride(&self) -> usize {
        self.n_arms + 1
    }

    /// Where feature `j` starts inside a node's histogram; `j` = the feature count gives `node_len`.
    #[inline]
    pub fn feature_offset(&self, j: usize) -> usize {
        self.feature_offsets.get(j).copied().unwrap_or(self.node_len)
    }

    /// The cells of features `j0..j1` inside a node's histogram (their bound sections included).
    #[inline]
    pub fn features(&self, j0: usize, j1: usize) -> Range<usize> {
        self.feature_offset(j0)..self.feature_offset(j1)
    }

    /// Feature `j`'s histogram `[code][K+1]` inside one node's histogram (without its bound section).
    #[inline]
    pub fn feature<'a>(&self, node_hist: &'a [i64], j: usize) -> &'a [i64] {
        let start = self.feature_offsets[j];
        &node_hist[start..start + self.codes[j] * self.stride()]
    }

    /// Slot `s`'s node histogram inside a chunk's histograms.
    #[inline]
    pub fn node(&self, s: usize) -> Range<usize> {
        s * self.node_len..(s + 1) * self.node_len
    }
}

/// The codes of one feature's histogram `[code][K+1]`, each as its K sums and count.
#[inline]
pub fn codes(feature_hist: &[i64], n_arms: usize) -> std::slice::ChunksExact<'_, i64> {
    feature_hist.chunks_exact(n_arms + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_follow_slot_feature_code_order() {
        let l = HistogramLayout::new(2, &[3, 2]);
        assert_eq!((l.stride(), l.feature_offsets.clone(), l.node_len), (3, vec![0, 9], 15));
        assert_eq!((l.features(0, 2), l.features(1, 2), l.node(2)), (0..15, 9..15, 30..45));
        let node: Vec<i64> = (0..15).collect();
        assert_eq!(codes(l.feature(&node, 1), 2).map(|c| c[2]).collect::<Vec<_>>(), vec![11, 14]);
    }

    #[test]
    fn bound_sections_follow_their_feature() {
        // Feature 0: 3 codes × 3 cells, then 2 value bins × 2 bound cells; feature 1: 2 codes × 3 cells.
        let l = HistogramLayout::with_bounds(2, &[3, 2], &[true, false]);
        assert_eq!((l.feature_offsets.clone(), l.bound_offsets.clone(), l.node_len), (vec![0, 13], vec![Some(9), None], 19));
        let node: Vec<i64> = (0..19).collect();
        assert_eq!((l.feature(&node, 0).len(), l.bounds(&node, 0), l.bounds(&node, 1)), (9, Some(&node[9..13]), None));
        assert_eq!(l.feature(&node, 1), &node[13..19]);
    }
}

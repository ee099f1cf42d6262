//! The search grid: which codes a histogram holds when a feature's boundaries are finer than the
//! grid the split search scans first.
//!
//! A training block stores each feature's *fine* codes (one per boundary of the contract: with
//! `thresholdSearch = exact`, every distinct value of the boundary sample). Histograms are built on
//! *coarse* codes: coarse edge j is fine edge `cuts[j]`, so a coarse code is the number of cuts below
//! the fine code, and a coarse threshold is also a fine one. The missing code stays the last code on
//! both grids. A feature without cuts (`None`) is searched on its fine codes as they are.
//!
//! Refinement (`refine`) then searches the fine thresholds inside the coarse bins that could hold a
//! better split than the coarse search found (`split::refine_bins`): `bin_codes`.

use crate::{invalid, Result};

/// A feature's fine → coarse code map.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CoarseMap {
    /// Fine codes: fine value bins + the missing code.
    fine_codes: usize,
    /// Fine edge index of each coarse edge, strictly increasing; `None` = the identity map.
    cuts: Option<Vec<u32>>,
    /// Coarse code of each fine code, when not the identity.
    table: Vec<u16>,
}

impl CoarseMap {
    /// `fine_codes` = fine edges + 2. Cuts must be strictly increasing fine edge indices.
    pub fn new(feature: usize, fine_codes: usize, cuts: Option<&[u32]>) -> Result<CoarseMap> {
        let Some(cuts) = cuts else {
            return Ok(CoarseMap { fine_codes, cuts: None, table: Vec::new() });
        };
        let fine_edges = fine_codes.saturating_sub(2);
        if let Some(w) = cuts.windows(2).find(|w| w[0] >= w[1]) {
            return invalid!("coarse cuts of feature {feature} must be strictly increasing, but {} is followed by {}", w[0], w[1]);
        }
        if let Some(&last) = cuts.last() {
            if last as usize >= fine_edges {
                return invalid!("coarse cut {last} of feature {feature} is not one of its {fine_edges} fine edges");
            }
        }
        if cuts.len() + 2 > u16::MAX as usize + 1 {
            return invalid!("feature {feature} has {} coarse cuts; at most 65,534", cuts.len());
        }
        let mut table = Vec::with_capacity(fine_codes);
        let mut below = 0usize;
        for code in 0..fine_codes - 1 {
            // Fine code i holds x in (e[i-1], e[i]]; coarse edge j = e[cuts[j]] lies below x iff cuts[j] < i.
            while below < cuts.len() && (cuts[below] as usize) < code {
                below += 1;
            }
            table.push(below as u16);
        }
        table.push((cuts.len() + 1) as u16);
        Ok(CoarseMap { fine_codes, cuts: Some(cuts.to_vec()), table })
    }

    /// Each feature's map; `cuts` empty means every map is the identity.
    pub fn for_features(fine_codes: &[usize], cuts: &[Option<Vec<u32>>]) -> Result<Vec<CoarseMap>> {
        if !cuts.is_empty() && cuts.len() != fine_codes.len() {
            return invalid!("config has coarse cuts for {} features but lists {} features", cuts.len(), fine_codes.len());
        }
        fine_codes.iter().enumerate().map(|(f, &c)| CoarseMap::new(f, c, cuts.get(f).and_then(|c| c.as_deref()))).collect()
    }

    pub fn is_identity(&self) -> bool {
        self.cuts.is_none()
    }

    pub fn fine_codes(&self) -> usize {
        self.fine_codes
    }

    /// Codes of the histogram: coarse value bins + the missing code.
    pub fn codes(&self) -> usize {
        self.cuts.as_ref().map_or(self.fine_codes, |c| c.len() + 2)
    }

    /// The coarse code of a fine code.
    #[inline]
    pub fn code(&self, fine: usize) -> usize {
        if self.cuts.is_none() {
            fine
        } else {
            self.table[fine] as usize
        }
    }

    /// The table the histogram loop reads, or None for the identity.
    pub fn table(&self) -> Option<&[u16]> {
        self.cuts.as_ref().map(|_| self.table.as_slice())
    }

    /// The fine threshold of a coarse one. The last value bin ("missing vs the rest") maps to the fine
    /// last value bin; any other coarse threshold b is fine edge `cuts[b]`.
    pub fn fine_threshold(&self, coarse: usize) -> usize {
        match &self.cuts {
            None => coarse,
            Some(cuts) => cuts.get(coarse).map_or(self.fine_codes - 2, |&c| c as usize),
        }
    }

    /// The fine codes `lo..=hi` of coarse value bin `c` (the identity: `c` itself). The fine thresholds
    /// strictly inside it are `lo..hi`: its last code is its upper coarse edge, or for the last bin the
    /// last value bin (every value left: not a threshold).
    pub fn bin_codes(&self, c: usize) -> (usize, usize) {
        match &self.cuts {
            None => (c, c),
            Some(cuts) => {
                let lo = if c == 0 { 0 } else { cuts[c - 1] as usize + 1 };
                let hi = cuts.get(c).map_or(self.fine_codes - 2, |&e| e as usize);
                (lo, hi)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::binning::bin_code;

    #[test]
    fn coarse_codes_are_the_bins_of_the_coarse_edges() {
        let fine = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
        let cuts = [1u32, 4];
        let coarse: Vec<f64> = cuts.iter().map(|&c| fine[c as usize]).collect();
        let map = CoarseMap::new(0, fine.len() + 2, Some(&cuts)).unwrap();
        assert_eq!(map.codes(), 4);
        for x in [0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 4.5, 5.0, 5.5, 6.0, 9.0, f64::NAN] {
            assert_eq!(map.code(bin_code(&fine, x)), bin_code(&coarse, x), "x = {x}");
        }
        // Coarse threshold b is fine edge cuts[b]: the same rows go left.
        assert_eq!((map.fine_threshold(0), map.fine_threshold(1), map.fine_threshold(2)), (1, 4, 6));
        // Coarse bin 0 holds fine codes 0..=1 (up to edge 0 = fine 1), bin 1 2..=4, the last bin 5..=6.
        assert_eq!((map.bin_codes(0), map.bin_codes(1), map.bin_codes(2)), ((0, 1), (2, 4), (5, 6)));
    }

    #[test]
    fn identity_and_bad_cuts() {
        let id = CoarseMap::new(0, 5, None).unwrap();
        assert_eq!((id.code(3), id.codes(), id.fine_threshold(2), id.bin_codes(1)), (3, 5, 2, (1, 1)));
        assert!(CoarseMap::new(2, 6, Some(&[1, 1])).unwrap_err().to_string().contains("feature 2"));
        assert!(CoarseMap::new(0, 6, Some(&[4])).unwrap_err().to_string().contains("not one of its 4 fine edges"));
    }
}

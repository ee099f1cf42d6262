//! Which rows of a block feed one forest tree (`KernelConfig::row_sample`): a pure function of the
//! row's hash, the forest's seed and the tree id, never of position or partition, so every layout
//! gives each tree the same rows.
//!
//! Format: a forest's training blocks carry one channel more than the kernel's `n_arms`, the last,
//! holding the row's hash as an unscaled integer (the JVM's sample hash shifted right by 11 bits, so it
//! is exact as the double the block builder reads). With m = mix(hash ⊕ mix(seed ⊕ tree·2^32)), the row
//! is in the tree's subsample when the top 32 bits of m are below `threshold` (the rate × 2^32); an
//! honest tree's subsample is halved by m's lowest bit: 0 is the structure half (the histograms that
//! choose the splits), 1 the estimation half (the leaf values).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
pub struct RowSample {
    pub seed: i64,
    pub tree: u32,
    /// Rows whose mixed hash's top 32 bits are below this (≤ 2^32) are in the tree's subsample.
    pub threshold: u64,
    pub half: Half,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Half {
    /// Every row of the subsample (a tree that is not honest).
    All,
    /// The rows that choose the splits of an honest tree.
    Structure,
    /// The rows that estimate an honest tree's leaf values.
    Estimation,
}

/// splitmix64's finalizer: a bijection of u64 whose output bits all depend on every input bit.
pub fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl RowSample {
    /// The largest threshold: every row is in the subsample.
    pub const ALL_ROWS: u64 = 1 << 32;

    /// Whether the row with this hash feeds the tree.
    #[inline]
    pub fn takes(&self, hash: i64) -> bool {
        let salt = mix((self.seed as u64) ^ ((self.tree as u64) << 32));
        let m = mix((hash as u64) ^ salt);
        (m >> 32) < self.threshold
            && match self.half {
                Half::All => true,
                Half::Structure => m & 1 == 0,
                Half::Estimation => m & 1 == 1,
            }
    }

    /// Marks `INACTIVE` every routed slot whose row the sample does not take: `gamma` is the block's
    /// row-major channels, `stride` per row, the hash last.
    pub fn mask(&self, slots: &mut [u32], gamma: &[i64], stride: usize) -> crate::Result<()> {
        self.validate()?;
        for (slot, g) in slots.iter_mut().zip(gamma.chunks_exact(stride)) {
            if *slot != crate::histogram::INACTIVE && !self.takes(g[stride - 1]) {
                *slot = crate::histogram::INACTIVE;
            }
        }
        Ok(())
    }

    pub fn validate(&self) -> crate::Result<()> {
        if self.threshold == 0 || self.threshold > Self::ALL_ROWS {
            return crate::invalid!("row sample threshold {} is outside 1..=2^32", self.threshold);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(tree: u32, rate: f64, half: Half) -> RowSample {
        RowSample { seed: 42, tree, threshold: (rate * RowSample::ALL_ROWS as f64) as u64, half }
    }

    #[test]
    fn rates_and_halves() {
        let n = 200_000i64;
        let hashes: Vec<i64> = (0..n).map(|i| (mix(i as u64) >> 11) as i64).collect();
        let count = |s: RowSample| hashes.iter().filter(|&&h| s.takes(h)).count() as f64 / n as f64;
        assert_eq!(count(sample(3, 1.0, Half::All)), 1.0);
        let half = count(sample(3, 0.5, Half::All));
        assert!((half - 0.5).abs() < 0.01, "{half}");
        let structure = count(sample(3, 0.5, Half::Structure));
        let estimation = count(sample(3, 0.5, Half::Estimation));
        assert!((structure - 0.25).abs() < 0.01 && (estimation - 0.25).abs() < 0.01);
        assert!((structure + estimation - half).abs() < 1e-12, "the halves partition the subsample");
        // Trees draw different rows: two trees' 50% subsamples overlap on about a quarter of the rows.
        let both = hashes.iter().filter(|&&h| sample(3, 0.5, Half::All).takes(h) && sample(4, 0.5, Half::All).takes(h)).count();
        assert!((both as f64 / n as f64 - 0.25).abs() < 0.01);
    }

    #[test]
    fn thresholds_are_checked() {
        assert!(sample(0, 1.0, Half::All).validate().is_ok());
        assert!(RowSample { seed: 0, tree: 0, threshold: 0, half: Half::All }.validate().is_err());
        assert!(RowSample { seed: 0, tree: 0, threshold: RowSample::ALL_ROWS + 1, half: Half::All }.validate().is_err());
    }
}

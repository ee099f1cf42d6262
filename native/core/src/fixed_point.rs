//! Γ as fixed-point integers. Every row's reward is rounded once to a multiple of 2^-shift,
//! so histogram sums are exact integers: any merge order gives the same bits, and a sibling
//! histogram equals parent − child exactly.
//!
//! The shift is the largest that keeps every possible sum inside i64 with headroom:
//! with `max_abs < 2^e` and `n_rows < 2^nbits`, shift = 61 − e − nbits gives
//! |Σ q_i| ≤ n·(2^(61−nbits) + ½) < 2^62. It depends only on (n_rows, max|Γ|), which are
//! order-independent aggregates, so every partition derives the same shift.

use crate::{invalid, Result};

/// Largest |Γ| accepted; beyond this the per-row resolution would be coarser than 2^440.
const MAX_REWARD_MAGNITUDE: f64 = 1e150;

pub fn reward_shift(n_rows: u64, max_abs: f64) -> Result<i32> {
    if !max_abs.is_finite() || max_abs < 0.0 {
        return invalid!("reward magnitude must be finite and non-negative, got {max_abs}");
    }
    if max_abs > MAX_REWARD_MAGNITUDE {
        return invalid!("reward magnitude {max_abs} exceeds the supported maximum {MAX_REWARD_MAGNITUDE}; rescale the rewards");
    }
    if max_abs == 0.0 {
        return Ok(0);
    }
    let e = exponent_above(max_abs);
    let nbits = 64 - n_rows.max(1).leading_zeros() as i32;
    Ok((61 - e - nbits).min(1000))
}

/// The smallest e with `x < 2^e`, for finite positive x.
fn exponent_above(x: f64) -> i32 {
    let bits = x.to_bits();
    let biased = ((bits >> 52) & 0x7ff) as i32;
    if biased == 0 {
        -1022 // subnormal: below 2^-1022
    } else {
        biased - 1023 + 1
    }
}

#[inline]
pub fn scale(shift: i32) -> f64 {
    2f64.powi(shift)
}

/// Rounds Γ·2^shift to the nearest integer, halves away from zero.
#[inline]
pub fn quantize(value: f64, scale: f64) -> i64 {
    (value * scale).round() as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An exact fixed-point sum back in Γ units.
    fn to_reward(sum: i128, shift: i32) -> f64 {
        sum as f64 * 2f64.powi(-shift)
    }

    #[test]
    fn shift_keeps_worst_case_sum_inside_i64() {
        for &(n, m) in &[(1u64, 1.0), (2000, 5.3), (100_000_000, 1000.0), (u32::MAX as u64, 0.75), (3, 1e-300)] {
            let shift = reward_shift(n, m).unwrap();
            let q = quantize(m, scale(shift)) as i128;
            assert!(q * n as i128 <= 1i128 << 62, "n={n} max={m} shift={shift}");
        }
    }

    #[test]
    fn resolution_is_fine_for_small_data() {
        // 2000 rows of |Γ| < 8: resolution 2^-47 ≈ 7.1e-15 per row.
        assert_eq!(reward_shift(2000, 7.9).unwrap(), 61 - 3 - 11);
    }

    #[test]
    fn rejects_non_finite() {
        assert!(reward_shift(10, f64::NAN).is_err());
        assert!(reward_shift(10, f64::INFINITY).is_err());
    }

    #[test]
    fn quantize_round_trips_within_half_a_unit() {
        let shift = reward_shift(1000, 10.0).unwrap();
        for &v in &[0.0, 1.5, -3.25, 9.999_999, -0.1] {
            let q = quantize(v, scale(shift));
            assert!((to_reward(q as i128, shift) - v).abs() <= 0.5 * 2f64.powi(-shift));
        }
    }
}

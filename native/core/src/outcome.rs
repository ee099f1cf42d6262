//! Outcome (nuisance) trees for AIPW rewards: one multi-output regression tree per cross-fitting
//! fold, grown by the policy tree's own machinery (blocks, histograms, candidate loop, node table).
//!
//! An outcome block has 2A+1 channels per row for A arms: `1{W=a}·Y` (fixed-point), then
//! `1{W=a}` (an integer count), then the row's fold (an integer, used only to leave the fold's own
//! rows out through `KernelConfig::skip_rows`). Histogram sums are exact integers, as for Γ.
//!
//! A split maximizes Σ_a (S_aL²/n_aL + S_aR²/n_aR): the reduction in the squared error of per-arm
//! means. It is computed in f64 from the exact sums in a fixed order, so it is a deterministic
//! function of the histograms, never of the merge order.

/// Σ_a S_a²/n_a over the arms with rows, in arm order; `sums` = [S_0..S_{A−1}, n_0..n_{A−1}, ..].
#[inline]
pub fn outcome_score(sums: &[i64], arms: usize) -> f64 {
    let mut total = 0.0;
    for a in 0..arms {
        let n = sums[arms + a];
        if n > 0 {
            let s = sums[a] as f64;
            total += s * s / n as f64;
        }
    }
    total
}

/// The split's score, left then right, as an i128 that orders like the f64 (scores are ≥ 0, and
/// the IEEE bits of non-negative doubles order like their values), so the split record and the
/// driver's comparisons stay the integer ones of the policy tree.
#[inline]
pub fn outcome_reward(left: &[i64], right: &[i64], arms: usize) -> i128 {
    let score = outcome_score(left, arms) + outcome_score(right, arms);
    score.to_bits() as i64 as i128
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn score_is_sum_of_squared_arm_sums_over_counts() {
        // Arm 0: S = 6 over 3 rows; arm 1: S = −4 over 2 rows; arm 2: no rows.
        assert_eq!(outcome_score(&[6, -4, 0, 3, 2, 0, 99], 3), 12.0 + 8.0);
    }

    #[test]
    fn reward_orders_like_the_score() {
        let r = |l: i64, r: i64| outcome_reward(&[l, 1], &[r, 1], 1);
        assert!(r(3, 3) > r(2, 3));
        assert!(r(0, 0) < r(0, 1));
        assert_eq!(r(0, 0), 0);
    }
}

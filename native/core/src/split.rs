//! Split search over merged histograms, with policytree's criterion and tie order.
//!
//! A split's reward is max_a ΣΓ(a) over its left rows plus max_a ΣΓ(a) over its right rows.
//! Candidates are visited features in contract order, then thresholds ascending, then (when the
//! node has missing values) missing-right before missing-left; a candidate replaces the best
//! only when strictly better, so ties go to the first visited. Arm ties go to the lowest index.
//! A categorical feature's candidates are one category vs the rest, codes ascending, in the same
//! loop (see `best_split_for_feature_by`).

use crate::config::{Criterion, SplitConfig};
use crate::histogram_layout::{codes, HistogramLayout};
use crate::outcome::outcome_reward;
use crate::{invalid, Result};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SplitCandidate {
    /// Contract index of the feature.
    pub feature: usize,
    /// Rows with code ≤ threshold_bin (x ≤ edge[threshold_bin]) go left; for a categorical feature,
    /// rows with code == threshold_bin, except at value_bins − 1 ("missing vs the rest").
    pub threshold_bin: usize,
    pub missing_left: bool,
    /// Exact reward of the split in fixed-point units.
    pub reward: i128,
    /// Left and right sums: K arm sums then the count.
    pub left: Vec<i64>,
    pub right: Vec<i64>,
}

/// The best arm of a K-sum vector and its sum; ties to the lowest index.
#[inline]
pub fn best_arm(sums: &[i64]) -> (usize, i64) {
    let mut best = (0, sums[0]);
    for (a, &s) in sums.iter().enumerate().skip(1) {
        if s > best.1 {
            best = (a, s);
        }
    }
    best
}

/// policytree's split reward: the best arm's Γ sum on each side.
pub fn policy_reward(left: &[i64], right: &[i64], n_arms: usize) -> i128 {
    best_arm(&left[..n_arms]).1 as i128 + best_arm(&right[..n_arms]).1 as i128
}

/// Best split of one feature's histogram `[code][K+1]` (last code = missing) under any split
/// reward (larger is better), or None if no candidate leaves at least `min_node_size` rows on each
/// side: the policy tree and the outcome trees visit the same candidates in the same order.
///
/// Candidates, in loop order: each threshold b < value_bins − 1 (x ≤ edge[b] left), with missing
/// values right then left when the node has any; then, when it has missing values, "missing vs the
/// rest" (threshold_bin = value_bins − 1: every value left, missing right; its threshold is +∞), as
/// XGBoost and LightGBM also consider. With no missing rows, future missing values go to the larger child.
///
/// `categorical`: bins are category codes and a candidate b sends code == b left (missing right,
/// then left, as for thresholds), for every code with rows in the node except the last value bin,
/// which a categorical feature leaves empty (its edges are the codes, so nothing lies above the
/// last one): b = value_bins − 1 stays "missing vs the rest".
pub fn best_split_for_feature_by(
    feature: usize,
    hist: &[i64],
    n_arms: usize,
    min_node_size: u64,
    categorical: bool,
    reward_of: impl Fn(&[i64], &[i64], usize) -> i128,
) -> Option<SplitCandidate> {
    let stride = n_arms + 1;
    let value_bins = codes(hist, n_arms).len() - 1;
    let missing = codes(hist, n_arms).next_back().expect("a feature has at least the missing code");
    let has_missing = missing[n_arms] > 0;
    let mut total = missing.to_vec();
    codes(hist, n_arms).take(value_bins).for_each(|bin| add(&mut total, bin));
    let mut best: Option<SplitCandidate> = None;
    let mut consider = |b: usize, left: Vec<i64>, side: Option<bool>| {
        let right: Vec<i64> = total.iter().zip(&left).map(|(t, l)| t - l).collect();
        let (nl, nr) = (left[n_arms], right[n_arms]);
        if (nl as u64) < min_node_size || (nr as u64) < min_node_size {
            return;
        }
        let reward = reward_of(&left, &right, n_arms);
        if best.as_ref().is_none_or(|c| reward > c.reward) {
            let missing_left = side.unwrap_or(nl >= nr);
            best = Some(SplitCandidate { feature, threshold_bin: b, missing_left, reward, left, right });
        }
    };
    let mut prefix = vec![0i64; stride];
    for (b, bin) in codes(hist, n_arms).take(value_bins.saturating_sub(1)).enumerate() {
        if categorical {
            // A category absent from the node is no candidate: "== c or missing" would be "missing vs the rest".
            if bin[n_arms] == 0 {
                continue;
            }
            prefix.copy_from_slice(bin);
        } else {
            add(&mut prefix, bin);
        }
        if has_missing {
            consider(b, prefix.clone(), Some(false));
            let mut with_missing = prefix.clone();
            add(&mut with_missing, missing);
            consider(b, with_missing, Some(true));
        } else {
            consider(b, prefix.clone(), None);
        }
    }
    if has_missing {
        let values: Vec<i64> = total.iter().zip(missing).map(|(t, m)| t - m).collect();
        consider(value_bins - 1, values, Some(false));
    }
    best
}

#[inline]
fn add(acc: &mut [i64], x: &[i64]) {
    acc.iter_mut().zip(x).for_each(|(a, v)| *a += v);
}

/// Totals (K sums + count) of a node, read from its first feature's histogram.
pub fn node_totals(node_hist: &[i64], layout: &HistogramLayout) -> Vec<i64> {
    let mut total = vec![0i64; layout.stride()];
    codes(layout.feature(node_hist, 0), layout.n_arms).for_each(|bin| add(&mut total, bin));
    total
}

/// The best split of a (node, feature block) histogram and the runner-up: the best split on any
/// other feature (the alternative an auditor asks about), both in loop order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BlockBest {
    pub best: Option<SplitCandidate>,
    pub runner_up: Option<SplitCandidate>,
}

/// Best split over a (node, feature block) histogram, in loop order, with the runner-up.
pub fn best_split(node_hist: &[i64], config: &SplitConfig) -> Result<BlockBest> {
    let layout = HistogramLayout::new(config.n_arms, &config.codes_per_feature);
    if node_hist.len() != layout.node_len {
        return invalid!("histogram has {} cells but the split config implies {}", node_hist.len(), layout.node_len);
    }
    if config.codes_per_feature.iter().any(|&c| c < 2) {
        return invalid!("every feature needs at least 2 codes");
    }
    if !config.categorical.is_empty() && config.categorical.len() != config.codes_per_feature.len() {
        return invalid!(
            "split config marks {} features categorical or not, but has {}",
            config.categorical.len(),
            config.codes_per_feature.len()
        );
    }
    let outcome_arms = config.outcome_arms;
    if config.criterion == Criterion::Outcome && (outcome_arms == 0 || 2 * outcome_arms > config.n_arms) {
        return invalid!("an outcome split needs 1 to {} outcome arms (2 channels each), got {outcome_arms}", config.n_arms / 2);
    }
    let reward_of = |l: &[i64], r: &[i64], k: usize| match config.criterion {
        Criterion::Policy => policy_reward(l, r, k),
        Criterion::Outcome => outcome_reward(l, r, outcome_arms),
    };
    let per_feature: Vec<SplitCandidate> = (0..config.codes_per_feature.len())
        .filter_map(|j| {
            best_split_for_feature_by(
                config.feature_start + j,
                layout.feature(node_hist, j),
                config.n_arms,
                config.min_node_size,
                config.categorical.get(j).copied().unwrap_or(false),
                reward_of,
            )
        })
        .collect();
    let first_max = |exclude: Option<usize>| {
        per_feature.iter().filter(|c| Some(c.feature) != exclude).fold(None::<&SplitCandidate>, |b, c| match b {
            Some(b) if c.reward <= b.reward => Some(b),
            _ => Some(c),
        })
    };
    let best = first_max(None).cloned();
    let runner_up = best.as_ref().and_then(|b| first_max(Some(b.feature)).cloned());
    Ok(BlockBest { best, runner_up })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arm_ties_go_to_lowest_index() {
        assert_eq!(best_arm(&[3, 5, 5]), (1, 5));
        assert_eq!(best_arm(&[-1, -1]), (0, -1));
    }
}

//! Split search over merged histograms, with policytree's criterion and tie order.
//!
//! A split's reward is max_a ΣΓ(a) over its left rows plus max_a ΣΓ(a) over its right rows.
//! Candidates are visited features in contract order, then thresholds ascending, then (when the
//! node has missing values) missing-right before missing-left; a candidate replaces the best
//! only when strictly better, so ties go to the first visited. Arm ties go to the lowest index.
//! A categorical feature's candidates are one category vs the rest, codes ascending, in the same
//! loop (see `best_split_for_feature_by`).

use crate::coarse::CoarseMap;
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
    let value_bins = codes(hist, n_arms).len() - 1;
    let missing = codes(hist, n_arms).next_back().expect("a feature has at least the missing code");
    let mut total = missing.to_vec();
    codes(hist, n_arms).take(value_bins).for_each(|bin| add(&mut total, bin));
    let mut scan = Scan { feature, n_arms, min_node_size, total: &total, missing, best: None, reward_of };
    let below = vec![0i64; n_arms + 1];
    scan.thresholds(0, codes(hist, n_arms).take(value_bins.saturating_sub(1)), &below, categorical);
    if missing[n_arms] > 0 {
        let values: Vec<i64> = total.iter().zip(missing).map(|(t, m)| t - m).collect();
        scan.consider(value_bins - 1, values, Some(false));
    }
    scan.best
}

/// The candidate loop of one feature, shared by the greedy search and the two-level search (`pair_search`):
/// the node's totals and missing sums, and the first strictly best candidate so far.
pub struct Scan<'a, R> {
    pub feature: usize,
    pub n_arms: usize,
    pub min_node_size: u64,
    pub total: &'a [i64],
    pub missing: &'a [i64],
    pub best: Option<SplitCandidate>,
    pub reward_of: R,
}

impl<R: Fn(&[i64], &[i64], usize) -> i128> Scan<'_, R> {
    /// Thresholds `first, first + 1, …` over consecutive value bins (`bins`), with `below` the sums of
    /// the value rows under the first bin; categorical bins are one-vs-rest and ignore `below`.
    pub fn thresholds<'b>(&mut self, first: usize, bins: impl Iterator<Item = &'b [i64]>, below: &[i64], categorical: bool) {
        let has_missing = self.missing[self.n_arms] > 0;
        let mut prefix = below.to_vec();
        for (i, bin) in bins.enumerate() {
            let b = first + i;
            if categorical {
                // A category absent from the node is no candidate: "== c or missing" would be "missing vs the rest".
                if bin[self.n_arms] == 0 {
                    continue;
                }
                prefix.copy_from_slice(bin);
            } else {
                add(&mut prefix, bin);
            }
            if has_missing {
                self.consider(b, prefix.clone(), Some(false));
                let mut with_missing = prefix.clone();
                add(&mut with_missing, self.missing);
                self.consider(b, with_missing, Some(true));
            } else {
                self.consider(b, prefix.clone(), None);
            }
        }
    }

    /// One candidate: `left` goes left; `side` is the missing side, or None when the node has no
    /// missing rows (then future missing values follow the larger child).
    pub fn consider(&mut self, b: usize, left: Vec<i64>, side: Option<bool>) {
        let n = self.n_arms;
        let right: Vec<i64> = self.total.iter().zip(&left).map(|(t, l)| t - l).collect();
        let (nl, nr) = (left[n], right[n]);
        if (nl as u64) < self.min_node_size || (nr as u64) < self.min_node_size {
            return;
        }
        let reward = (self.reward_of)(&left, &right, n);
        if self.best.as_ref().is_none_or(|c| reward > c.reward) {
            let missing_left = side.unwrap_or(nl >= nr);
            self.best = Some(SplitCandidate { feature: self.feature, threshold_bin: b, missing_left, reward, left, right });
        }
    }
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
    /// With bounds: the coarse bins whose fine thresholds could reach the best (`refine_bins`), at most
    /// `refine_limit` besides the best's own two, (feature, bin) ascending.
    pub refine: Vec<RefineBin>,
    /// The largest bound of the bins reaching the best that `refine_limit` left out.
    pub left_out: Option<i128>,
}

/// A coarse value bin of a feature, with an upper bound on the reward of every fine threshold inside
/// it, its edges included (`bin_bound`): refinement searches the bins whose bound reaches the node's best.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RefineBin {
    /// Contract index of the feature.
    pub feature: usize,
    /// Coarse value bin.
    pub bin: usize,
    pub bound: i128,
}

/// An upper bound on the policy reward of any threshold inside coarse value bin `c` of a feature (its
/// two edges included): with L the sums of the bins below c, R those above, P⁺ the bin's positive-part
/// sums and M the missing rows', a threshold inside c sends L plus a part of c left, whose arm-a sum is
/// at most L_a + P⁺_a, and the rest of c right, at most R_a + P⁺_a; the missing rows go to either side.
/// So reward ≤ max over the missing sides of best(L + P⁺ [+ M]) + best(R + P⁺ [+ M]). `minNodeSize` is
/// ignored (it only removes candidates). Exact integers: i128.
pub fn bin_bound(left: &[i64], right: &[i64], pos: &[i64], missing: &[i64], n_arms: usize) -> i128 {
    let plus = |side: &[i64], with_missing: bool| -> i128 {
        (0..n_arms)
            .map(|a| side[a] as i128 + pos[a] as i128 + if with_missing { missing[a] as i128 } else { 0 })
            .max()
            .expect("at least one arm")
    };
    if missing[n_arms] > 0 {
        (plus(left, true) + plus(right, false)).max(plus(left, false) + plus(right, true))
    } else {
        plus(left, false) + plus(right, false)
    }
}

/// One bounded feature's bins to refine against `reach` (the best reward so far; None: every bin, when
/// the block has no valid candidate, since fine thresholds may keep `minNodeSize` where coarse ones cannot):
/// bins with at least one fine threshold strictly inside, whose `bin_bound` is ≥ `reach`. An empty bin
/// above the first needs no refining: its inner thresholds split the node as its lower edge does, which
/// comes first in loop order; the first bin's inner thresholds come before its only edge, its upper one.
pub fn refine_bins(
    feature: usize,
    feature_hist: &[i64],
    bounds: &[i64],
    grid: &CoarseMap,
    n_arms: usize,
    reach: Option<i128>,
) -> Vec<RefineBin> {
    let bins: Vec<&[i64]> = codes(feature_hist, n_arms).collect();
    let (values, missing) = bins.split_at(bins.len() - 1);
    let mut values_total = vec![0i64; n_arms + 1];
    values.iter().for_each(|b| add(&mut values_total, b));
    let mut left = vec![0i64; n_arms + 1];
    let mut out = Vec::new();
    for (c, bin) in values.iter().enumerate() {
        let (lo, hi) = grid.bin_codes(c);
        if hi > lo && (c == 0 || bin[n_arms] > 0) {
            let right: Vec<i64> = values_total.iter().zip(&left).zip(bin.iter()).map(|((t, l), b)| t - l - b).collect();
            let bound = bin_bound(&left, &right, &bounds[c * n_arms..(c + 1) * n_arms], missing[0], n_arms);
            if reach.is_none_or(|r| bound >= r) {
                out.push(RefineBin { feature, bin: c, bound });
            }
        }
        add(&mut left, bin);
    }
    out
}

/// Best split over a (node, feature block) histogram, in loop order, with the runner-up.
pub fn best_split(node_hist: &[i64], config: &SplitConfig) -> Result<BlockBest> {
    best_split_among(node_hist, config, &[])
}

/// [`best_split`] over the block's features with `allowed[j]` set (a forest node's feature subset);
/// empty `allowed`: every feature. The node's totals do not depend on it.
pub fn best_split_among(node_hist: &[i64], config: &SplitConfig, allowed: &[bool]) -> Result<BlockBest> {
    if !allowed.is_empty() && allowed.len() != config.codes_per_feature.len() {
        return invalid!("{} feature flags for a split block of {} features", allowed.len(), config.codes_per_feature.len());
    }
    if config.codes_per_feature.iter().any(|&c| c < 2) {
        return invalid!("every feature needs at least 2 codes");
    }
    // Coarse histograms: thresholds go back as fine codes; with bounds, the bins to refine come too.
    let grids = if config.fine_codes.is_empty() {
        if config.bounds {
            return invalid!("a split config with bounds needs the block's fine codes and coarse cuts");
        }
        Vec::new()
    } else {
        if config.fine_codes.len() != config.codes_per_feature.len() {
            return invalid!("split config has fine codes for {} features but {}", config.fine_codes.len(), config.codes_per_feature.len());
        }
        let grids = CoarseMap::for_features(&config.fine_codes, &config.coarse_cuts)?;
        if let Some(j) = grids.iter().zip(&config.codes_per_feature).position(|(g, &c)| g.codes() != c) {
            return invalid!(
                "feature {j} of the split config has {} histogram codes but its cuts make {}",
                config.codes_per_feature[j],
                grids[j].codes()
            );
        }
        grids
    };
    let bounded: Vec<bool> = if config.bounds { grids.iter().map(|g| !g.is_identity()).collect() } else { Vec::new() };
    let layout = HistogramLayout::with_bounds(config.n_arms, &config.codes_per_feature, &bounded);
    if node_hist.len() != layout.node_len {
        return invalid!("histogram has {} cells but the split config implies {}", node_hist.len(), layout.node_len);
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
    if config.bounds && config.criterion != Criterion::Policy {
        return invalid!("refinement bounds are for the policy criterion only");
    }
    let reward_of = |l: &[i64], r: &[i64], k: usize| match config.criterion {
        Criterion::Policy => policy_reward(l, r, k),
        Criterion::Outcome => outcome_reward(l, r, outcome_arms),
    };
    let is_allowed = |j: usize| allowed.get(j).copied().unwrap_or(true);
    let per_feature: Vec<SplitCandidate> = (0..config.codes_per_feature.len())
        .filter(|&j| is_allowed(j))
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
    if grids.is_empty() {
        return Ok(BlockBest { best, runner_up, refine: Vec::new(), left_out: None });
    }
    let reach = best.as_ref().map(|b| b.reward);
    let mut refine: Vec<RefineBin> = (0..config.codes_per_feature.len())
        .filter(|&j| is_allowed(j))
        .flat_map(|j| match layout.bounds(node_hist, j) {
            Some(bounds) => refine_bins(config.feature_start + j, layout.feature(node_hist, j), bounds, &grids[j], config.n_arms, reach),
            None => Vec::new(),
        })
        .collect();
    let mut left_out = None;
    if config.refine_limit > 0 {
        // The best's own bins (either side of its coarse threshold), then the others by bound, largest first.
        let own = |b: &RefineBin| {
            best.as_ref().is_some_and(|x| {
                x.feature == b.feature
                    && x.threshold_bin + 2 < config.codes_per_feature[x.feature - config.feature_start]
                    && (b.bin == x.threshold_bin || b.bin == x.threshold_bin + 1)
            })
        };
        let (mut kept, mut rest): (Vec<RefineBin>, Vec<RefineBin>) = refine.into_iter().partition(own);
        rest.sort_by(|a, b| b.bound.cmp(&a.bound).then((a.feature, a.bin).cmp(&(b.feature, b.bin))));
        left_out = rest.get(config.refine_limit).map(|b| b.bound);
        kept.extend(rest.into_iter().take(config.refine_limit));
        kept.sort_by_key(|b| (b.feature, b.bin));
        refine = kept;
    }
    let fine =
        |c: SplitCandidate| SplitCandidate { threshold_bin: grids[c.feature - config.feature_start].fine_threshold(c.threshold_bin), ..c };
    Ok(BlockBest { best: best.map(fine), runner_up: runner_up.map(fine), refine, left_out })
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

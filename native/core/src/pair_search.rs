//! The exact two-level split search (policytree's `hybrid_policy_tree(search.depth = 2)` step): the
//! root split of a node's best depth-2 subtree, from the node's pair histograms (`pair_layout`).
//!
//! A root candidate s is scored by `best(left rows of s) + best(right rows of s)`, where `best(S)` is
//! the best single split reward of S over every feature and threshold (each side ≥ `min_node_size`
//! rows; `split::policy_reward`), or S's unsplit reward max_a ΣΓ_a(S) when S has no valid split (the
//! child stays a leaf). A split never loses to its unsplit node, so `best(S)` is the best subtree of
//! depth ≤ 1 of S, and the winner's reward is the exact optimum over depth-2 trees on the histogram
//! grid. Thresholds are coarse candidates (`coarse`), returned as fine codes like `split` does.
//!
//! **Loop order** (ties go to the first candidate visited; a candidate wins only when strictly better):
//! root features ascending (the block's `feature_start..feature_end`, blocks in contract order), then
//! within a root feature the greedy candidate order of `split::best_split_for_feature_by`, visited by
//! the same `split::Scan`: thresholds (categorical: codes with rows, one vs the rest) ascending, each
//! with missing right then missing left when the node has missing rows; then "missing vs the rest".
//! Each child's split is chosen the same way (features g ascending, then `best_split_for_feature_by`'s
//! order) and only its reward enters the root's: the children's choice never changes which root wins.
//!
//! The scan runs on *extended bins*: for each code c of root feature r, the row totals of r = c
//! (K sums, count) followed by the histogram of every g over those rows (the 2-D slices' row c).
//! Their prefix sums are, exactly, each child's totals and its histograms of every g, so `Scan`'s
//! own arithmetic (missing added to a side, right = total − left, `min_node_size` on the count)
//! builds every child.

use crate::coarse::CoarseMap;
use crate::config::PairSplitConfig;
use crate::pair_layout::PairLayout;
use crate::split::{best_arm, best_split_for_feature_by, policy_reward, BlockBest, Scan, SplitCandidate};
use crate::{invalid, Result};

/// The block's best root split (its `reward` the depth-2 subtree's, `left`/`right` its K sums and
/// count), the runner-up (the best root on another root feature of the block), and the splits the
/// winner's subtree puts in its children (None: that child is a leaf). Thresholds are fine codes.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SubtreeBest {
    pub best: Option<SplitCandidate>,
    pub runner_up: Option<SplitCandidate>,
    pub left_child: Option<SplitCandidate>,
    pub right_child: Option<SplitCandidate>,
}

impl SubtreeBest {
    /// As the split record's best and runner-up (no bins to refine: the pair search stays coarse).
    pub fn block_best(&self) -> BlockBest {
        BlockBest { best: self.best.clone(), runner_up: self.runner_up.clone(), refine: Vec::new(), left_out: None }
    }
}

/// Totals (K sums + count) of a node, read from its first root's slice against feature 0.
pub fn pair_node_totals(node_hist: &[i64], layout: &PairLayout) -> Vec<i64> {
    let stride = layout.stride();
    let cells = layout.codes[layout.root_start] * layout.codes[0] * stride;
    let mut total = vec![0i64; stride];
    node_hist[layout.pair_offset(0, 0)..cells].chunks_exact(stride).for_each(|c| add(&mut total, c));
    total
}

/// The best depth-2 subtree root of a (node, root feature block) pair histogram, in loop order.
pub fn best_subtree(node_hist: &[i64], config: &PairSplitConfig) -> Result<SubtreeBest> {
    let f = config.codes_per_feature.len();
    if config.feature_start >= config.feature_end || config.feature_end > f {
        return invalid!(
            "pair split config's root features {}..{} are empty or outside its {f} features",
            config.feature_start,
            config.feature_end
        );
    }
    if config.codes_per_feature.iter().any(|&c| c < 2) || config.n_arms == 0 {
        return invalid!("every feature needs at least 2 codes and a policy at least one arm");
    }
    if !config.categorical.is_empty() && config.categorical.len() != f {
        return invalid!("pair split config marks {} features categorical or not, but has {f}", config.categorical.len());
    }
    let layout = PairLayout::new(config.n_arms, &config.codes_per_feature, config.feature_start, config.feature_end);
    if node_hist.len() != layout.node_len {
        return invalid!("pair histogram has {} cells but the pair split config implies {}", node_hist.len(), layout.node_len);
    }
    let grids = if config.fine_codes.is_empty() {
        config.codes_per_feature.iter().enumerate().map(|(g, &c)| CoarseMap::new(g, c, None)).collect::<Result<Vec<_>>>()?
    } else {
        if config.fine_codes.len() != f {
            return invalid!("pair split config has fine codes for {} features but {f}", config.fine_codes.len());
        }
        CoarseMap::for_features(&config.fine_codes, &config.coarse_cuts)?
    };
    if let Some(g) = grids.iter().zip(&config.codes_per_feature).position(|(m, &c)| m.codes() != c) {
        return invalid!(
            "feature {g} of the pair split config has {} histogram codes but its cuts make {}",
            config.codes_per_feature[g],
            grids[g].codes()
        );
    }
    let categorical: Vec<bool> = (0..f).map(|g| config.categorical.get(g).copied().unwrap_or(false)).collect();
    if let Some(g) = (0..f).find(|&g| categorical[g] && !grids[g].is_identity()) {
        return invalid!("feature {g} is categorical and cannot be searched on coarse cuts: each category is its own code");
    }
    let search = Search { config, layout: &layout, categorical };
    let per_root: Vec<SplitCandidate> = (0..layout.n_roots()).filter_map(|j| search.root(j, &node_hist[layout.root(j)])).collect();
    let first_max = |exclude: Option<usize>| {
        per_root.iter().filter(|c| Some(c.feature) != exclude).fold(None::<&SplitCandidate>, |b, c| match b {
            Some(b) if c.reward <= b.reward => Some(b),
            _ => Some(c),
        })
    };
    let best = first_max(None);
    let runner_up = best.and_then(|b| first_max(Some(b.feature)));
    let stride = layout.stride();
    let fine = |c: SplitCandidate| SplitCandidate { threshold_bin: grids[c.feature].fine_threshold(c.threshold_bin), ..c };
    // The root's own sums are the extended bins' first K + 1 cells.
    let root =
        |c: &SplitCandidate| fine(SplitCandidate { left: c.left[..stride].to_vec(), right: c.right[..stride].to_vec(), ..c.clone() });
    Ok(SubtreeBest {
        best: best.map(root),
        runner_up: runner_up.map(root),
        left_child: best.and_then(|b| search.child(&b.left)).map(fine),
        right_child: best.and_then(|b| search.child(&b.right)).map(fine),
    })
}

struct Search<'a> {
    config: &'a PairSplitConfig,
    layout: &'a PairLayout,
    categorical: Vec<bool>,
}

impl Search<'_> {
    /// The best split of a child from its extended sums (totals, then every g's histogram), in loop order.
    fn child(&self, ext: &[i64]) -> Option<SplitCandidate> {
        let (k, stride) = (self.config.n_arms, self.layout.stride());
        let mut best: Option<SplitCandidate> = None;
        for g in 0..self.layout.codes.len() {
            let hist = &ext[stride * (1 + self.layout.code_offset(g))..stride * (1 + self.layout.code_offset(g + 1))];
            let c = best_split_for_feature_by(g, hist, k, self.config.min_node_size, self.categorical[g], policy_reward);
            if let Some(c) = c.filter(|c| best.as_ref().is_none_or(|b| c.reward > b.reward)) {
                best = Some(c);
            }
        }
        best
    }

    /// `best(S)` of a child: its best split's reward, or its unsplit reward when it has none. The same
    /// candidates as `child`, scanned for their largest reward only (a maximum has no tie order), with
    /// no allocation per candidate: this runs for every root candidate.
    fn child_value(&self, ext: &[i64]) -> i128 {
        let (k, stride) = (self.config.n_arms, self.layout.stride());
        let (total, min) = (&ext[..stride], self.config.min_node_size as i64);
        let mut best: Option<i128> = None;
        let mut left = vec![0i64; stride];
        let mut consider = |left: &[i64]| {
            let (nl, nr) = (left[k], total[k] - left[k]);
            if nl >= min && nr >= min {
                let right = (0..k).map(|a| total[a] - left[a]).max().expect("a policy has arms");
                let reward = best_arm(&left[..k]).1 as i128 + right as i128;
                best = Some(best.map_or(reward, |b| b.max(reward)));
            }
        };
        for g in 0..self.layout.codes.len() {
            let hist = &ext[stride * (1 + self.layout.code_offset(g))..stride * (1 + self.layout.code_offset(g + 1))];
            let (values, missing) = hist.split_at(hist.len() - stride);
            let value_bins = values.len() / stride;
            left.iter_mut().for_each(|v| *v = 0);
            for bin in values.chunks_exact(stride).take(value_bins - 1) {
                if self.categorical[g] {
                    if bin[k] == 0 {
                        continue;
                    }
                    left.copy_from_slice(bin);
                } else {
                    add(&mut left, bin);
                }
                consider(&left);
                if missing[k] > 0 {
                    add(&mut left, missing);
                    consider(&left);
                    left.iter_mut().zip(missing).for_each(|(l, m)| *l -= m);
                }
            }
            if missing[k] > 0 {
                let values: Vec<i64> = total.iter().zip(missing).map(|(t, m)| t - m).collect();
                consider(&values);
            }
        }
        best.unwrap_or_else(|| best_arm(&total[..k]).1 as i128)
    }

    /// Root feature j's best candidate (extended left/right sums) in greedy loop order, or None.
    fn root(&self, j: usize, root_hist: &[i64]) -> Option<SplitCandidate> {
        let l = self.layout;
        let (k, stride) = (self.config.n_arms, l.stride());
        let r = l.root_start + j;
        let codes_r = l.codes[r];
        let ext_len = stride * (1 + l.all_codes());
        // Extended bin c: row totals of r = c, then row c of the slice against every g.
        let mut ext = vec![0i64; codes_r * ext_len];
        for (c, bin) in ext.chunks_exact_mut(ext_len).enumerate() {
            for g in 0..l.codes.len() {
                let width = l.codes[g] * stride;
                let src = &root_hist[l.pair_offset(j, g) + c * width..][..width];
                bin[stride * (1 + l.code_offset(g))..][..width].copy_from_slice(src);
            }
            let (totals, cells) = bin.split_at_mut(stride);
            cells[..l.codes[0] * stride].chunks_exact(stride).for_each(|cell| add(totals, cell));
        }
        let mut total = vec![0i64; ext_len];
        ext.chunks_exact(ext_len).for_each(|bin| add(&mut total, bin));
        let missing = &ext[(codes_r - 1) * ext_len..];
        let reward_of = |left: &[i64], right: &[i64], _: usize| self.child_value(left) + self.child_value(right);
        let mut scan =
            Scan { feature: r, n_arms: k, min_node_size: self.config.min_node_size, total: &total, missing, best: None, reward_of };
        let value_bins = codes_r - 1;
        let below = vec![0i64; ext_len];
        scan.thresholds(0, ext.chunks_exact(ext_len).take(value_bins - 1), &below, self.categorical[r]);
        if missing[k] > 0 {
            let values: Vec<i64> = total.iter().zip(missing).map(|(t, m)| t - m).collect();
            scan.consider(value_bins - 1, values, Some(false));
        }
        scan.best
    }
}

#[inline]
fn add(acc: &mut [i64], x: &[i64]) {
    acc.iter_mut().zip(x).for_each(|(a, v)| *a += v);
}

//! Threshold refinement: the second, bounded pass of a level when features are searched on a coarse
//! grid (`coarse`). The coarse search returns, per (node, feature), the coarse value bins whose bound
//! (`split::bin_bound`) reaches the node's best coarse reward: only those bins can hold a fine threshold
//! at least as good. For each such (node, feature) — a *group* — the refine kernel builds one histogram
//! on a mixed grid (`GroupGrid`): the listed bins on their fine codes, every other coarse bin as one cell,
//! the missing code last. `refine_split` scans it with the coarse search's own loop
//! (`split::best_split_for_feature_by`), so every fine threshold of the listed bins and every coarse edge
//! is a candidate, in the fixed order (thresholds ascending, missing right before left, then "missing vs
//! the rest"). Every fine threshold left out has a bound below the node's best, so the node's refined
//! split is the exhaustive search's over every fine threshold of every feature (ties in loop order).
//!
//! Group histograms travel as one flat i64 array per chunk: groups in order, each `GroupGrid::cells`
//! × `[K sums, count]`. A forest tree's kernel (`RefineConfig::row_sample`) reads blocks with the row
//! hash as a last channel and counts only the rows its sample takes, as the histogram kernel does.

use crate::block::{Codes, TrainingBlock};
use crate::coarse::CoarseMap;
use crate::config::{RefineConfig, RefineSplitConfig};
use crate::error::try_zeroed;
use crate::histogram::{route_rows, INACTIVE};
use crate::node_table::NodeTable;
use crate::split::{best_split_for_feature_by, policy_reward, SplitCandidate};
use crate::{invalid, Result};
use std::sync::Arc;

/// A group's mixed grid over its feature's coarse map: per coarse value bin its first cell (refined bins
/// get one cell per fine code), then the missing cell. A few words per coarse bin: the map, one table per
/// feature, is shared by every group of the feature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupGrid {
    /// Per coarse value bin: its first cell, and its first fine code when refined.
    base: Vec<(usize, Option<usize>)>,
    /// Value cells.
    value_cells: usize,
}

impl GroupGrid {
    /// `bins` ascending coarse value bins of the feature whose coarse map is `map`.
    pub fn new(feature: usize, map: &CoarseMap, bins: &[usize]) -> Result<GroupGrid> {
        if map.is_identity() {
            return invalid!("refine bins {bins:?} for feature {feature}, which has no coarse grid");
        }
        let value_bins = map.codes() - 1;
        if bins.windows(2).any(|w| w[0] >= w[1]) || bins.last().is_some_and(|&b| b >= value_bins) {
            return invalid!("refine bins {bins:?} of feature {feature} must be ascending coarse value bins below {value_bins}");
        }
        let mut base = Vec::with_capacity(value_bins);
        let mut cells = 0;
        let mut refined = bins.iter().peekable();
        for c in 0..value_bins {
            let (lo, hi) = map.bin_codes(c);
            if refined.next_if_eq(&&c).is_some() {
                base.push((cells, Some(lo)));
                cells += hi - lo + 1;
            } else {
                base.push((cells, None));
                cells += 1;
            }
        }
        Ok(GroupGrid { base, value_cells: cells })
    }

    /// Cells of the group's histogram codes: value cells, then the missing cell.
    pub fn cells(&self) -> usize {
        self.value_cells + 1
    }

    /// The cell of a fine code, on the feature's coarse map.
    #[inline]
    pub fn cell(&self, map: &CoarseMap, fine: usize) -> usize {
        match self.base.get(map.code(fine)) {
            None => self.value_cells,
            Some(&(first, None)) => first,
            Some(&(first, Some(lo))) => first + (fine - lo),
        }
    }

    /// The fine threshold of a cell threshold: value cell t's upper edge (its last fine code), or past the
    /// last value cell "missing vs the rest" (the fine last value bin).
    pub fn fine_threshold(&self, map: &CoarseMap, t: usize) -> usize {
        if t + 1 >= self.value_cells {
            return map.fine_codes() - 2;
        }
        let c = self.base.partition_point(|&(first, _)| first <= t) - 1;
        match self.base[c] {
            (first, Some(lo)) => lo + (t - first),
            (_, None) => map.bin_codes(c).1,
        }
    }
}

/// One partition's refinement pass: blocks are routed once when added, then each chunk of groups
/// scans the rows of its nodes.
pub struct RefineKernel {
    config: RefineConfig,
    tree: NodeTable,
    /// Per feature with groups, its coarse map (shared by its groups).
    maps: Vec<Option<CoarseMap>>,
    grids: Vec<GroupGrid>,
    blocks: Vec<(Arc<TrainingBlock>, Vec<u32>)>,
}

impl RefineKernel {
    pub fn new(tree: NodeTable, config: RefineConfig) -> Result<RefineKernel> {
        if config.n_arms != tree.n_arms {
            return invalid!("refine config has {} arms but the tree has {}", config.n_arms, tree.n_arms);
        }
        let n_features = config.codes_per_feature.len();
        if config.coarse_cuts.len() != n_features {
            return invalid!("refine config has coarse cuts for {} features but lists {n_features}", config.coarse_cuts.len());
        }
        let mut grids = Vec::with_capacity(config.groups.len());
        let mut maps: Vec<Option<CoarseMap>> = vec![None; n_features];
        let mut seen = std::collections::BTreeSet::new();
        for (i, g) in config.groups.iter().enumerate() {
            if g.slot >= config.frontier.len() || g.feature >= n_features {
                return invalid!("refine group {i} {g:?} is outside {} slots × {n_features} features", config.frontier.len());
            }
            if !seen.insert((g.slot, g.feature)) {
                return invalid!("refine config has two groups for slot {} and feature {}", g.slot, g.feature);
            }
            let Some(cuts) = &config.coarse_cuts[g.feature] else {
                return invalid!("refine group {i} is for feature {}, which has no coarse grid", g.feature);
            };
            if maps[g.feature].is_none() {
                maps[g.feature] = Some(CoarseMap::new(g.feature, config.codes_per_feature[g.feature], Some(cuts))?);
            }
            grids.push(GroupGrid::new(g.feature, maps[g.feature].as_ref().expect("just built"), &g.bins)?);
        }
        let n = config.groups.len();
        if let Some(c) = config.chunks.iter().find(|c| c.start >= c.end || c.end > n) {
            return invalid!("refine chunk {c:?} is empty or outside the {n} groups");
        }
        Ok(RefineKernel { config, tree, maps, grids, blocks: Vec::new() })
    }

    /// Channels per block row: the histogrammed ones, and a forest tree's row hash after them.
    fn block_channels(&self) -> usize {
        self.config.n_arms + usize::from(self.config.row_sample.is_some())
    }

    pub fn add_block(&mut self, block: impl Into<Arc<TrainingBlock>>) -> Result<()> {
        let block: Arc<TrainingBlock> = block.into();
        if block.n_arms != self.block_channels() || block.n_features != self.config.codes_per_feature.len() {
            return invalid!(
                "training block has {} features × {} channels; the refine kernel expects {} × {}",
                block.n_features,
                block.n_arms,
                self.config.codes_per_feature.len(),
                self.block_channels()
            );
        }
        let mut slots = route_rows(&self.tree, &self.config.frontier, &self.config.codes_per_feature, &block)?;
        if let Some(sample) = self.config.row_sample {
            sample.mask(&mut slots, &block.gamma, block.n_arms)?;
        }
        if let Some(skip) = self.config.skip_rows {
            let k = block.n_arms;
            if skip.channel >= k {
                return invalid!("skip_rows reads channel {} but blocks have {k}", skip.channel);
            }
            for (slot, g) in slots.iter_mut().zip(block.gamma.chunks_exact(k)) {
                if g[skip.channel] == skip.value {
                    *slot = INACTIVE;
                }
            }
        }
        self.blocks.push((block, slots));
        Ok(())
    }

    /// The group histograms of chunk `index` (groups `chunks[index].start..end`, in order).
    pub fn emit(&self, index: usize) -> Result<Vec<i64>> {
        let &crate::config::GroupRange { start: g0, end: g1 } = self.config.chunks.get(index).ok_or_else(|| {
            crate::PolicyError::InvalidInput(format!("refine chunk {index} requested but there are {}", self.config.chunks.len()))
        })?;
        let k = self.config.n_arms;
        let stride = k + 1;
        let mut offsets = Vec::with_capacity(g1 - g0);
        let mut len = 0usize;
        for grid in &self.grids[g0..g1] {
            offsets.push(len);
            len += grid.cells() * stride;
        }
        let mut hist = try_zeroed::<i64>(len, "refine histograms")?;
        // Per feature of the chunk: slot → the chunk's group of that (slot, feature), if any.
        let mut by_feature: std::collections::BTreeMap<usize, Vec<u32>> = std::collections::BTreeMap::new();
        for (i, g) in self.config.groups[g0..g1].iter().enumerate() {
            by_feature.entry(g.feature).or_insert_with(|| vec![INACTIVE; self.config.frontier.len()])[g.slot] = i as u32;
        }
        for (block, slots) in &self.blocks {
            for (&f, group_of) in &by_feature {
                let column = f * block.n_rows..(f + 1) * block.n_rows;
                let fine_codes = self.config.codes_per_feature[f];
                let map = self.maps[f].as_ref().expect("a map for every feature with groups");
                let groups = &self.grids[g0..g1];
                match &block.codes {
                    Codes::U8(c) => accumulate(&c[column], fine_codes, block, slots, group_of, map, groups, &offsets, k, &mut hist)?,
                    Codes::U16(c) => accumulate(&c[column], fine_codes, block, slots, group_of, map, groups, &offsets, k, &mut hist)?,
                }
            }
        }
        Ok(hist)
    }
}

/// Adds one block's column of one feature into its groups' histograms: `k` channels summed per row (a
/// forest block's row hash, past them, is skipped).
#[allow(clippy::too_many_arguments)]
fn accumulate<C: Copy + Into<usize>>(
    codes: &[C],
    fine_codes: usize,
    block: &TrainingBlock,
    slots: &[u32],
    group_of: &[u32],
    map: &CoarseMap,
    grids: &[GroupGrid],
    offsets: &[usize],
    k: usize,
    hist: &mut [i64],
) -> Result<()> {
    if codes.iter().any(|&c| c.into() >= fine_codes) {
        return invalid!("training block has a bin code ≥ the feature's {fine_codes} codes; blocks and boundaries disagree");
    }
    for ((&code, &s), g) in codes.iter().zip(slots).zip(block.gamma.chunks_exact(block.n_arms)) {
        let Some(&group) = group_of.get(s as usize) else { continue };
        if group == INACTIVE {
            continue;
        }
        let group = group as usize;
        let cell = offsets[group] + grids[group].cell(map, code.into()) * (k + 1);
        let h = &mut hist[cell..cell + k + 1];
        h[..k].iter_mut().zip(&g[..k]).for_each(|(a, v)| *a += v);
        h[k] += 1;
    }
    Ok(())
}

/// The best threshold of a merged group histogram in the coarse search's loop order, its threshold a
/// fine code; None when no candidate keeps `min_node_size` rows on each side.
pub fn refine_split(hist: &[i64], config: &RefineSplitConfig) -> Result<Option<SplitCandidate>> {
    let map = CoarseMap::new(config.feature, config.fine_codes, Some(&config.cuts))?;
    let grid = GroupGrid::new(config.feature, &map, &config.bins)?;
    let stride = config.n_arms + 1;
    if hist.len() != grid.cells() * stride {
        return invalid!("refine histogram has {} cells; feature {}'s group has {} × {stride}", hist.len(), config.feature, grid.cells());
    }
    let best = best_split_for_feature_by(config.feature, hist, config.n_arms, config.min_node_size, false, policy_reward);
    Ok(best.map(|c| SplitCandidate { threshold_bin: grid.fine_threshold(&map, c.threshold_bin), ..c }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_grid_cells_refine_listed_bins_only() {
        // 7 fine value bins (codes 0..=6), missing code 7; coarse bins {0,1}, {2,3,4}, {5,6}.
        let map = CoarseMap::new(0, 8, Some(&[1, 4])).unwrap();
        let g = GroupGrid::new(0, &map, &[1]).unwrap();
        assert_eq!(g.cells(), 1 + 3 + 1 + 1);
        let cells: Vec<usize> = (0..8).map(|f| g.cell(&map, f)).collect();
        assert_eq!(cells, vec![0, 0, 1, 2, 3, 4, 4, 5]);
        // Cell thresholds: coarse edge fine 1, fine 2, 3, then fine 4 (coarse edge); past it missing vs rest.
        assert_eq!((0..5).map(|t| g.fine_threshold(&map, t)).collect::<Vec<_>>(), vec![1, 2, 3, 4, 6]);
        let last = GroupGrid::new(0, &map, &[0, 2]).unwrap();
        assert_eq!((0..6).map(|t| last.fine_threshold(&map, t)).collect::<Vec<_>>(), vec![0, 1, 4, 5, 6, 6]);
        assert!(GroupGrid::new(0, &map, &[2, 1]).unwrap_err().to_string().contains("ascending"));
        assert!(GroupGrid::new(0, &map, &[3]).is_err());
        assert!(GroupGrid::new(0, &CoarseMap::new(0, 8, None).unwrap(), &[0]).is_err());
    }
}

//! Threshold refinement: the second, bounded pass of a level when features are searched on a coarse
//! grid (`coarse`). For each frontier node whose winning split is a coarse threshold b of feature f,
//! the fine thresholds strictly between the coarse edges b − 1 and b + 1 (`CoarseMap::window`) are
//! searched exactly: the refine kernel builds, per node, the histogram of f's fine codes `lo..=hi` only,
//! and `refine_split` scans those thresholds with the coarse search's own loop (`split::Scan`),
//! starting from the sums below `lo` and the missing sums the coarse split record carries.
//!
//! Window histograms travel as one flat i64 array per chunk: windows in order, each `(hi − lo + 1)`
//! codes × `[K sums, count]`. A forest tree's kernel (`RefineConfig::row_sample`) reads blocks with the
//! row hash as a last channel and counts only the rows its sample takes, as the histogram kernel does.

use crate::block::{Codes, TrainingBlock};
use crate::config::{RefineConfig, SplitConfig};
use crate::error::try_zeroed;
use crate::histogram::{route_rows, INACTIVE};
use crate::histogram_layout::codes;
use crate::node_table::NodeTable;
use crate::split::{policy_reward, Scan, SplitCandidate, Window};
use crate::{invalid, Result};
use std::sync::Arc;

/// One partition's refinement pass: blocks are routed once when added, then each chunk of windows
/// scans the rows of its nodes.
pub struct RefineKernel {
    config: RefineConfig,
    tree: NodeTable,
    blocks: Vec<(Arc<TrainingBlock>, Vec<u32>)>,
}

impl RefineKernel {
    pub fn new(tree: NodeTable, config: RefineConfig) -> Result<RefineKernel> {
        if config.n_arms != tree.n_arms {
            return invalid!("refine config has {} arms but the tree has {}", config.n_arms, tree.n_arms);
        }
        for (i, w) in config.windows.iter().enumerate() {
            if w.slot >= config.frontier.len() || w.feature >= config.codes_per_feature.len() {
                return invalid!(
                    "refine window {i} {w:?} is outside {} slots × {} features",
                    config.frontier.len(),
                    config.codes_per_feature.len()
                );
            }
            if w.lo > w.hi || w.hi + 2 >= config.codes_per_feature[w.feature] {
                return invalid!(
                    "refine window {i} covers fine codes {}..={} but feature {} has {} value bins",
                    w.lo,
                    w.hi,
                    w.feature,
                    config.codes_per_feature[w.feature] - 1
                );
            }
        }
        let mut seen = vec![false; config.frontier.len()];
        if let Some(w) = config.windows.iter().find(|w| std::mem::replace(&mut seen[w.slot], true)) {
            return invalid!("refine config has two windows for slot {}", w.slot);
        }
        let n = config.windows.len();
        if let Some(c) = config.chunks.iter().find(|c| c.start >= c.end || c.end > n) {
            return invalid!("refine chunk {c:?} is empty or outside the {n} windows");
        }
        Ok(RefineKernel { config, tree, blocks: Vec::new() })
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

    /// The window histograms of chunk `index` (windows `chunks[index].0..chunks[index].1`).
    pub fn emit(&self, index: usize) -> Result<Vec<i64>> {
        let &crate::config::WindowRange { start: w0, end: w1 } = self.config.chunks.get(index).ok_or_else(|| {
            crate::PolicyError::InvalidInput(format!("refine chunk {index} requested but there are {}", self.config.chunks.len()))
        })?;
        let stride = self.config.n_arms + 1;
        let windows = &self.config.windows[w0..w1];
        let mut offsets = Vec::with_capacity(windows.len());
        let mut len = 0usize;
        for w in windows {
            offsets.push(len);
            len += (w.hi - w.lo + 1) * stride;
        }
        let mut hist = try_zeroed::<i64>(len, "refine histograms")?;
        let k = self.config.n_arms;
        for (block, slots) in &self.blocks {
            for (w, &off) in windows.iter().zip(&offsets) {
                match &block.codes {
                    Codes::U8(c) => {
                        accumulate_window(&c[w.feature * block.n_rows..(w.feature + 1) * block.n_rows], k, block, slots, w, off, &mut hist)
                    }
                    Codes::U16(c) => {
                        accumulate_window(&c[w.feature * block.n_rows..(w.feature + 1) * block.n_rows], k, block, slots, w, off, &mut hist)
                    }
                }
            }
        }
        Ok(hist)
    }
}

/// Adds one block's rows of window `w` into `hist`: `k` channels summed per row (a forest block's row hash,
/// past them, is skipped).
fn accumulate_window<C: Copy + Into<usize>>(
    codes: &[C],
    k: usize,
    block: &TrainingBlock,
    slots: &[u32],
    w: &crate::config::RefineWindow,
    off: usize,
    hist: &mut [i64],
) {
    let slot = w.slot as u32;
    for ((&code, &s), g) in codes.iter().zip(slots).zip(block.gamma.chunks_exact(block.n_arms)) {
        let code = code.into();
        if s != slot || code < w.lo || code > w.hi {
            continue;
        }
        let cell = off + (code - w.lo) * (k + 1);
        let h = &mut hist[cell..cell + k + 1];
        h[..k].iter_mut().zip(&g[..k]).for_each(|(a, v)| *a += v);
        h[k] += 1;
    }
}

/// The best fine threshold of a window, in the coarse search's loop order (thresholds ascending,
/// missing right before missing left): `hist` is the merged window histogram, `totals` the node's.
/// The window contains the coarse winner's own threshold, so a candidate always exists.
pub fn refine_split(feature: usize, window: &Window, hist: &[i64], totals: &[i64], config: &SplitConfig) -> Result<Option<SplitCandidate>> {
    let stride = config.n_arms + 1;
    if hist.len() != (window.hi - window.lo + 1) * stride
        || totals.len() != stride
        || window.below.len() != stride
        || window.missing.len() != stride
    {
        return invalid!(
            "refine histogram has {} cells for fine codes {}..={} × {stride} (totals {}, below {}, missing {})",
            hist.len(),
            window.lo,
            window.hi,
            totals.len(),
            window.below.len(),
            window.missing.len()
        );
    }
    let mut scan = Scan {
        feature,
        n_arms: config.n_arms,
        min_node_size: config.min_node_size,
        total: totals,
        missing: &window.missing,
        best: None,
        reward_of: policy_reward,
    };
    scan.thresholds(window.lo, codes(hist, config.n_arms), &window.below, false);
    Ok(scan.best)
}

//! Reward histograms: for each frontier node, feature and bin code, the exact fixed-point
//! sum of Γ per arm and the row count, in the cell layout of `histogram_layout`, like MLlib's
//! DTStatsAggregator with K+1 integer statistics per bin. Integer sums make every merge order
//! give the same bits.

use crate::block::{Codes, TrainingBlock};
use crate::coarse::CoarseMap;
use crate::config::{Chunk, KernelConfig};
use crate::error::try_zeroed;
use crate::histogram_layout::HistogramLayout;
use crate::node_table::NodeTable;
use crate::{invalid, PolicyError, Result};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// Marks a row that sits in a finished leaf and feeds no histogram.
pub const INACTIVE: u32 = u32::MAX;

/// Routes binned rows through the current tree to frontier slots, by bin codes.
/// A split node sends code ≤ threshold_bin (categorical: code == threshold_bin) left and the
/// missing code to its learned side.
pub fn route_rows(tree: &NodeTable, frontier: &[u32], codes_per_feature: &[usize], block: &TrainingBlock) -> Result<Vec<u32>> {
    let dense = tree.dense();
    let mut slot_of = vec![INACTIVE; dense.len()];
    for (slot, &id) in frontier.iter().enumerate() {
        match dense.get(id as usize).copied().flatten() {
            Some(node) if node.is_leaf => slot_of[id as usize] = slot as u32,
            _ => return invalid!("frontier node {id} is not a leaf of the training tree"),
        }
    }
    for node in tree.nodes.iter().filter(|n| !n.is_leaf) {
        let f = node.feature as usize;
        if f >= block.n_features || f >= codes_per_feature.len() {
            return invalid!("tree node {} splits on feature index {f}, but the data has {} features", node.id, block.n_features);
        }
        if node.threshold_bin < 0 || node.threshold_bin as usize >= codes_per_feature[f] - 1 {
            return invalid!(
                "tree node {} has threshold bin {} outside feature {f}'s {} value bins",
                node.id,
                node.threshold_bin,
                codes_per_feature[f] - 1
            );
        }
    }
    let mut slots = try_zeroed::<u32>(block.n_rows, "row routing")?;
    for (r, slot) in slots.iter_mut().enumerate() {
        let mut id = 1usize;
        loop {
            let node = dense[id].ok_or_else(|| PolicyError::Internal(format!("route reached absent node {id}")))?;
            if node.is_leaf {
                *slot = slot_of[id];
                break;
            }
            let f = node.feature as usize;
            let code = block.code(f, r);
            let bin = node.threshold_bin as usize;
            let left = if code == codes_per_feature[f] - 1 {
                node.missing_left
            } else if node.categorical {
                code == bin
            } else {
                code <= bin
            };
            id = if left { 2 * id } else { 2 * id + 1 };
        }
    }
    Ok(slots)
}

/// One partition's histogram work for one tree level: blocks are routed once when added,
/// then each memory-bounded chunk scans them and emits its histograms.
pub struct HistogramKernel {
    config: KernelConfig,
    /// Per feature, block codes → histogram codes (identity unless the config has coarse cuts).
    grids: Vec<CoarseMap>,
    /// Histogram codes per feature.
    hist_codes: Vec<usize>,
    /// Per feature: its histogram has a bound section (a coarse feature with `config.bounds`).
    bounded: Vec<bool>,
    tree: NodeTable,
    blocks: Vec<(Arc<TrainingBlock>, Vec<u32>)>,
    /// Bytes held by blocks and row routing, and the largest histogram chunk so far.
    resident_bytes: usize,
    peak_chunk_bytes: AtomicUsize,
}

impl HistogramKernel {
    pub fn new(tree: NodeTable, config: KernelConfig) -> Result<HistogramKernel> {
        if config.n_arms != tree.n_arms {
            return invalid!("kernel config has {} arms but the tree has {}", config.n_arms, tree.n_arms);
        }
        for (i, c) in config.chunks.iter().enumerate() {
            if c.slot_start >= c.slot_end
                || c.slot_end > config.frontier.len()
                || c.feature_start >= c.feature_end
                || c.feature_end > config.codes_per_feature.len()
            {
                return invalid!(
                    "kernel chunk {i} {c:?} is empty or outside {} slots × {} features",
                    config.frontier.len(),
                    config.codes_per_feature.len()
                );
            }
        }
        if config.codes_per_feature.iter().any(|&c| c < 2) {
            return invalid!("every feature needs at least 2 codes (one value bin and the missing code)");
        }
        let grids = CoarseMap::for_features(&config.codes_per_feature, &config.coarse_cuts)?;
        let hist_codes = grids.iter().map(CoarseMap::codes).collect();
        let bounded = grids.iter().map(|g| config.bounds && !g.is_identity()).collect();
        Ok(HistogramKernel {
            config,
            tree,
            grids,
            hist_codes,
            bounded,
            blocks: Vec::new(),
            resident_bytes: 0,
            peak_chunk_bytes: AtomicUsize::new(0),
        })
    }

    /// Channels per block row: the histogrammed ones, and a forest tree's row hash after them.
    fn block_channels(&self) -> usize {
        self.config.n_arms + usize::from(self.config.row_sample.is_some())
    }

    pub fn add_block(&mut self, block: impl Into<Arc<TrainingBlock>>) -> Result<()> {
        let block: Arc<TrainingBlock> = block.into();
        if block.n_arms != self.block_channels() || block.n_features != self.config.codes_per_feature.len() {
            return invalid!(
                "training block has {} features × {} channels; the kernel expects {} × {}",
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
        let code_bytes = block.n_rows * block.n_features * block.code_width();
        self.resident_bytes += code_bytes + block.gamma.len() * 8 + slots.len() * 4;
        log::debug!("{}: block of {} rows added, {} bytes resident", self.config.tag, block.n_rows, self.resident_bytes);
        self.blocks.push((block, slots));
        Ok(())
    }

    /// Peak native bytes of this kernel: resident blocks and routing plus the largest chunk emitted.
    pub fn peak_bytes(&self) -> usize {
        self.resident_bytes + self.peak_chunk_bytes.load(Ordering::Relaxed)
    }

    pub fn chunk(&self, index: usize) -> Result<Chunk> {
        self.config
            .chunks
            .get(index)
            .copied()
            .ok_or_else(|| PolicyError::InvalidInput(format!("chunk {index} requested but the kernel has {}", self.config.chunks.len())))
    }

    /// Histograms of chunk `index` in the `HistogramLayout` of the chunk's features and slots. With several
    /// threads each builds whole features, so the result is the same bits for any thread count.
    pub fn emit(&self, index: usize) -> Result<Vec<i64>> {
        let chunk = self.chunk(index)?;
        let hist = self.emit_chunk(&chunk)?;
        self.peak_chunk_bytes.fetch_max(hist.len() * 8, Ordering::Relaxed);
        log::info!(
            "{}: chunk {index} ({} nodes × features {}..{}) emitted, {} rows in {} blocks, peak {} bytes",
            self.config.tag,
            chunk.slot_end - chunk.slot_start,
            chunk.feature_start,
            chunk.feature_end,
            self.blocks.iter().map(|(b, _)| b.n_rows).sum::<usize>(),
            self.blocks.len(),
            self.peak_bytes()
        );
        Ok(hist)
    }

    fn emit_chunk(&self, chunk: &Chunk) -> Result<Vec<i64>> {
        let chunk = *chunk;
        // Never more threads than features in the chunk or cores on the machine.
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let threads = self.config.threads.clamp(1, (chunk.feature_end - chunk.feature_start).min(cores));
        if threads == 1 {
            return self.emit_features(&chunk, chunk.feature_start, chunk.feature_end);
        }
        let n_features = chunk.feature_end - chunk.feature_start;
        let bounds: Vec<usize> = (0..=threads).map(|t| chunk.feature_start + t * n_features / threads).collect();
        let ranges: Vec<(usize, usize)> = bounds.windows(2).map(|w| (w[0], w[1])).collect();
        let parts = crate::pool::map_units(threads, &ranges, |&(f0, f1)| self.emit_features(&chunk, f0, f1))?;
        // Interleave the per-thread feature ranges back into the [slot][feature] layout.
        let features = chunk.feature_start..chunk.feature_end;
        let layout = HistogramLayout::with_bounds(self.config.n_arms, &self.hist_codes[features.clone()], &self.bounded[features]);
        let n_slots = chunk.slot_end - chunk.slot_start;
        let mut hist = try_zeroed::<i64>(n_slots * layout.node_len, "histogram chunk")?;
        for (t, part) in parts.into_iter().enumerate() {
            // Thread t's part is [slot][features bounds[t]..bounds[t + 1]], every thread has a feature.
            let cells = layout.features(bounds[t] - chunk.feature_start, bounds[t + 1] - chunk.feature_start);
            for (s, src) in part.chunks_exact(cells.len()).enumerate() {
                let at = layout.node(s).start + cells.start;
                hist[at..at + cells.len()].copy_from_slice(src);
            }
        }
        Ok(hist)
    }

    fn emit_features(&self, chunk: &Chunk, feature_start: usize, feature_end: usize) -> Result<Vec<i64>> {
        let codes = &self.hist_codes[feature_start..feature_end];
        let layout = HistogramLayout::with_bounds(self.config.n_arms, codes, &self.bounded[feature_start..feature_end]);
        let n_slots = chunk.slot_end - chunk.slot_start;
        let mut hist = try_zeroed::<i64>(n_slots * layout.node_len, "histogram chunk")?;
        // slot → base offset of its node histogram, or usize::MAX when outside this chunk.
        let mut base = vec![usize::MAX; self.config.frontier.len() + 1];
        for (s, b) in base.iter_mut().enumerate().take(chunk.slot_end).skip(chunk.slot_start) {
            *b = layout.node(s - chunk.slot_start).start;
        }
        let inactive = self.config.frontier.len();
        let k = self.config.n_arms;
        let stride = self.block_channels();
        let mut coarse: Vec<u16> = Vec::new();
        for (block, slots) in &self.blocks {
            for (j, f) in (feature_start..feature_end).enumerate() {
                let range = f * block.n_rows..(f + 1) * block.n_rows;
                let off = layout.feature_offsets[j];
                match (&block.codes, self.grids[f].table()) {
                    (Codes::U8(c), None) => {
                        accumulate(&c[range], &block.gamma, slots, &base, inactive, off, None, codes[j], &mut hist, k, stride)?
                    }
                    (Codes::U16(c), None) => {
                        accumulate(&c[range], &block.gamma, slots, &base, inactive, off, None, codes[j], &mut hist, k, stride)?
                    }
                    (c, Some(table)) => {
                        // The feature's coarse codes, mapped once per block and feature.
                        match c {
                            Codes::U8(c) => map_codes(&c[range], table, &mut coarse)?,
                            Codes::U16(c) => map_codes(&c[range], table, &mut coarse)?,
                        }
                        let bounds = layout.bound_offsets[j];
                        accumulate(&coarse, &block.gamma, slots, &base, inactive, off, bounds, codes[j], &mut hist, k, stride)?
                    }
                }
            }
        }
        Ok(hist)
    }
}

/// A column's fine codes mapped through a coarse table (one entry per fine code) into `out`.
pub fn map_codes<C: Copy + Into<usize>>(codes: &[C], table: &[u16], out: &mut Vec<u16>) -> Result<()> {
    if codes.iter().any(|&c| c.into() >= table.len()) {
        return invalid!("training block has a bin code ≥ the feature's {} codes; blocks and boundaries disagree", table.len());
    }
    out.clear();
    out.extend(codes.iter().map(|&c| table[c.into()]));
    Ok(())
}

/// The hot loop: one feature column of one block into the chunk's histograms, and with `bound_off` (a
/// bounded feature: `histogram_layout`) each value row's max(Γ, 0) per arm into its bin's bound cells in
/// the same pass. Specialised on K for the common arm counts so the per-row adds unroll.
#[allow(clippy::too_many_arguments)]
fn accumulate<C: Copy + Into<usize>>(
    codes: &[C],
    gamma: &[i64],
    slots: &[u32],
    base: &[usize],
    inactive: usize,
    feature_off: usize,
    bound_off: Option<usize>,
    n_codes: usize,
    hist: &mut [i64],
    k: usize,
    stride: usize,
) -> Result<()> {
    if codes.iter().any(|&c| c.into() >= n_codes) {
        return invalid!("training block has a bin code ≥ the feature's {n_codes} codes; blocks and boundaries disagree");
    }
    let rows = Rows { codes, gamma, stride, slots, base, inactive, feature_off, missing: n_codes - 1, hist };
    match bound_off {
        None => rows.add_by_arms::<false>(k, 0),
        Some(b) => rows.add_by_arms::<true>(k, b),
    }
    Ok(())
}

/// One feature column of one block and where its rows go: `accumulate`'s arguments.
struct Rows<'a, C> {
    codes: &'a [C],
    gamma: &'a [i64],
    stride: usize,
    slots: &'a [u32],
    base: &'a [usize],
    inactive: usize,
    feature_off: usize,
    /// The missing code (last), which has no bound cells.
    missing: usize,
    hist: &'a mut [i64],
}

impl<C: Copy + Into<usize>> Rows<'_, C> {
    fn add_by_arms<const BOUNDED: bool>(self, k: usize, bound_off: usize) {
        match k {
            2 => self.add::<_, BOUNDED>(Fixed::<2>, bound_off),
            3 => self.add::<_, BOUNDED>(Fixed::<3>, bound_off),
            4 => self.add::<_, BOUNDED>(Fixed::<4>, bound_off),
            _ => self.add::<_, BOUNDED>(Dynamic(k), bound_off),
        }
    }

    #[inline(always)]
    fn add<A: Arms, const BOUNDED: bool>(self, arms: A, bound_off: usize) {
        let k = arms.get();
        let missing = self.missing;
        // A row's channels are `stride` ≥ k wide: the first k are histogrammed (a forest block's last is its hash).
        for ((&code, &slot), g) in self.codes.iter().zip(self.slots).zip(self.gamma.chunks_exact(self.stride)) {
            let b = self.base[(slot as usize).min(self.inactive)];
            if b == usize::MAX {
                continue;
            }
            let code = code.into();
            // The layout's [slot][feature][code][K+1] cell, with K a constant where it can be.
            let cell = b + self.feature_off + code * (k + 1);
            let h = &mut self.hist[cell..cell + k + 1];
            for a in 0..k {
                h[a] += g[a];
            }
            h[k] += 1;
            if BOUNDED && code < missing {
                let cell = b + bound_off + code * k;
                let h = &mut self.hist[cell..cell + k];
                for a in 0..k {
                    h[a] += g[a].max(0);
                }
            }
        }
    }
}

/// The number of arms per row: a compile-time constant for the common small K (so the inner loop
/// unrolls), or a runtime value otherwise. One generic loop serves both (here and in `pair`).
pub(crate) trait Arms: Copy {
    fn get(self) -> usize;
}

#[derive(Clone, Copy)]
pub(crate) struct Fixed<const K: usize>;

impl<const K: usize> Arms for Fixed<K> {
    #[inline(always)]
    fn get(self) -> usize {
        K
    }
}

#[derive(Clone, Copy)]
pub(crate) struct Dynamic(pub(crate) usize);

impl Arms for Dynamic {
    #[inline(always)]
    fn get(self) -> usize {
        self.0
    }
}

//! The two-level ("depth-2 look-ahead") histogram kernel of GitHub issue #11: for each frontier slot
//! and each root feature r of a chunk, the 2-D reward histograms of (r's code, g's code) for every
//! feature g (g = r included), in the cell layout of `pair_layout`:
//! `[slot][root r of the chunk][g in 0..F][code_r][code_g][K sums, count]`, codes on the histogram's
//! (coarse, `coarse`) grid with the missing code last on both axes.
//!
//! Summed over r's codes on one side of a root split, the slice against g is the histogram of g in
//! that child, so `pair_search` finds the best depth-2 subtree of a node from these cells alone.
//! Work is O(rows × F × roots of the chunk) per chunk; cells are Σ_g codes_r × codes_g × (K+1) per
//! (slot, root). Sums are exact integers: any partitioning and merge order gives the same bits, and
//! with several threads (`PairConfig::threads`, a rayon pool) each thread fills whole root features,
//! so the result does not depend on the thread count either.

use crate::block::{Codes, TrainingBlock};
use crate::coarse::CoarseMap;
use crate::config::{Chunk, PairConfig};
use crate::error::try_zeroed;
use crate::histogram::{route_rows, Arms, Dynamic, Fixed, INACTIVE};
use crate::node_table::NodeTable;
use crate::pair_layout::PairLayout;
use crate::{invalid, PolicyError, Result};
use rayon::prelude::*;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// A block as the pair kernel keeps it: only the rows routed to a frontier slot, their histogram
/// (coarse) codes column-major, Γ row-major (the training block itself, shared, when every row is active
/// and every grid the identity), and each row's slot.
struct PairBlock {
    rows: Arc<TrainingBlock>,
    slots: Vec<u32>,
}

/// One partition's pair-histogram work for one tree level: blocks are routed (on their fine codes)
/// once when added and kept on the histogram grid, then each chunk scans them.
pub struct PairKernel {
    config: PairConfig,
    /// Histogram codes per feature.
    hist_codes: Vec<usize>,
    grids: Vec<CoarseMap>,
    tree: NodeTable,
    blocks: Vec<PairBlock>,
    pool: Option<rayon::ThreadPool>,
    resident_bytes: usize,
    peak_chunk_bytes: AtomicUsize,
}

impl PairKernel {
    pub fn new(tree: NodeTable, config: PairConfig) -> Result<PairKernel> {
        if config.n_arms != tree.n_arms {
            return invalid!("pair kernel config has {} arms but the tree has {}", config.n_arms, tree.n_arms);
        }
        let f = config.codes_per_feature.len();
        if let Some((i, c)) = config.chunks.iter().enumerate().find(|(_, c)| {
            c.slot_start >= c.slot_end || c.slot_end > config.frontier.len() || c.feature_start >= c.feature_end || c.feature_end > f
        }) {
            return invalid!("pair kernel chunk {i} {c:?} is empty or outside {} slots × {f} root features", config.frontier.len());
        }
        if config.codes_per_feature.iter().any(|&c| c < 2) {
            return invalid!("every feature needs at least 2 codes (one value bin and the missing code)");
        }
        let grids = CoarseMap::for_features(&config.codes_per_feature, &config.coarse_cuts)?;
        let hist_codes: Vec<usize> = grids.iter().map(CoarseMap::codes).collect();
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let threads = config.threads.clamp(1, cores);
        let pool = if threads > 1 {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).thread_name(|i| format!("sparkpolicy-pair-{i}")).build();
            Some(pool.map_err(|e| PolicyError::Internal(format!("cannot start {threads} pair kernel threads: {e}")))?)
        } else {
            None
        };
        Ok(PairKernel {
            config,
            hist_codes,
            grids,
            tree,
            blocks: Vec::new(),
            pool,
            resident_bytes: 0,
            peak_chunk_bytes: AtomicUsize::new(0),
        })
    }

    /// Routes the block's rows once (honouring `skip_rows`) and keeps its frontier rows on the histogram grid.
    pub fn add_block(&mut self, block: impl Into<Arc<TrainingBlock>>) -> Result<()> {
        let block: Arc<TrainingBlock> = block.into();
        let f = self.config.codes_per_feature.len();
        if block.n_arms != self.config.n_arms || block.n_features != f {
            return invalid!(
                "training block has {} features × {} arms; the pair kernel expects {f} × {}",
                block.n_features,
                block.n_arms,
                self.config.n_arms
            );
        }
        for (j, &c) in self.config.codes_per_feature.iter().enumerate() {
            let range = j * block.n_rows..(j + 1) * block.n_rows;
            let max = match &block.codes {
                Codes::U8(v) => v[range].iter().map(|&x| x as usize).max(),
                Codes::U16(v) => v[range].iter().map(|&x| x as usize).max(),
            };
            if max.is_some_and(|m| m >= c) {
                return invalid!("training block has a bin code ≥ feature {j}'s {c} codes; blocks and boundaries disagree");
            }
        }
        let mut slots = route_rows(&self.tree, &self.config.frontier, &self.config.codes_per_feature, &block)?;
        let k = block.n_arms;
        if let Some(skip) = self.config.skip_rows {
            if skip.channel >= k {
                return invalid!("skip_rows reads channel {} but blocks have {k}", skip.channel);
            }
            for (slot, g) in slots.iter_mut().zip(block.gamma.chunks_exact(k)) {
                if g[skip.channel] == skip.value {
                    *slot = INACTIVE;
                }
            }
        }
        let kept = self.keep(block, slots)?;
        self.resident_bytes += kept.rows.n_rows * (f * kept.rows.code_width() + 8 * k + 4);
        log::debug!("{}: block of {} frontier rows added, {} bytes resident", self.config.tag, kept.rows.n_rows, self.resident_bytes);
        self.blocks.push(kept);
        Ok(())
    }

    /// The block's active rows, with codes on the histogram grid (as they are when every grid is the identity).
    fn keep(&self, block: Arc<TrainingBlock>, slots: Vec<u32>) -> Result<PairBlock> {
        let active: Vec<usize> = (0..block.n_rows).filter(|&r| slots[r] != INACTIVE).collect();
        if active.len() == block.n_rows && self.grids.iter().all(CoarseMap::is_identity) {
            return Ok(PairBlock { rows: block, slots });
        }
        let (n, k, f) = (active.len(), block.n_arms, block.n_features);
        let mut gamma = try_zeroed::<i64>(n * k, "pair kernel rewards")?;
        for (dst, &r) in gamma.chunks_exact_mut(k).zip(&active) {
            dst.copy_from_slice(&block.gamma[r * k..(r + 1) * k]);
        }
        let mut codes = try_zeroed::<u16>(n * f, "pair kernel codes")?;
        for (j, grid) in self.grids.iter().enumerate() {
            for (dst, &r) in codes[j * n..(j + 1) * n].iter_mut().zip(&active) {
                *dst = grid.code(block.code(j, r)) as u16;
            }
        }
        let codes = if self.hist_codes.iter().all(|&c| c <= 256) {
            Codes::U8(codes.into_iter().map(|c| c as u8).collect())
        } else {
            Codes::U16(codes)
        };
        let rows = TrainingBlock { n_rows: n, n_features: f, n_arms: k, shift: block.shift, codes, gamma, id: 0 };
        Ok(PairBlock { rows: Arc::new(rows), slots: active.iter().map(|&r| slots[r]).collect() })
    }

    /// Peak native bytes: resident blocks and routing plus the largest chunk emitted.
    pub fn peak_bytes(&self) -> usize {
        self.resident_bytes + self.peak_chunk_bytes.load(Ordering::Relaxed)
    }

    pub fn chunk(&self, index: usize) -> Result<Chunk> {
        self.config.chunks.get(index).copied().ok_or_else(|| {
            PolicyError::InvalidInput(format!("pair chunk {index} requested but the kernel has {}", self.config.chunks.len()))
        })
    }

    /// The layout of chunk `index`'s histograms.
    pub fn layout(&self, index: usize) -> Result<PairLayout> {
        let c = self.chunk(index)?;
        Ok(PairLayout::new(self.config.n_arms, &self.hist_codes, c.feature_start, c.feature_end))
    }

    /// Pair histograms of chunk `index`, in the `PairLayout` of its slots and root features.
    pub fn emit(&self, index: usize) -> Result<Vec<i64>> {
        let chunk = self.chunk(index)?;
        let layout = self.layout(index)?;
        let n_slots = chunk.slot_end - chunk.slot_start;
        let len = n_slots.checked_mul(layout.node_len).ok_or_else(|| PolicyError::InvalidInput("pair chunk size overflows".into()))?;
        let mut hist = try_zeroed::<i64>(len, "pair histogram chunk")?;
        // Each row's slot inside the chunk, or NONE.
        let (s0, s1) = (chunk.slot_start as u32, chunk.slot_end as u32);
        let local: Vec<Vec<u32>> =
            self.blocks.iter().map(|b| b.slots.iter().map(|&s| if (s0..s1).contains(&s) { s - s0 } else { NONE }).collect()).collect();
        // Root j's cells of every slot: disjoint slices, so each root can be filled by its own thread.
        let mut per_root: Vec<Vec<&mut [i64]>> = (0..layout.n_roots()).map(|_| Vec::with_capacity(n_slots)).collect();
        for node in hist.chunks_exact_mut(layout.node_len.max(1)).take(n_slots) {
            let mut rest = node;
            for (j, slabs) in per_root.iter_mut().enumerate() {
                let (mine, tail) = rest.split_at_mut(layout.root(j).len());
                slabs.push(mine);
                rest = tail;
            }
        }
        let fill = |(j, mut slabs): (usize, Vec<&mut [i64]>)| self.fill_root(&layout, j, &local, &mut slabs);
        match &self.pool {
            Some(pool) => pool.install(|| per_root.into_par_iter().enumerate().for_each(fill)),
            None => per_root.into_iter().enumerate().for_each(fill),
        }
        self.peak_chunk_bytes.fetch_max(hist.len() * 8, Ordering::Relaxed);
        log::info!(
            "{}: pair chunk {index} ({n_slots} nodes × root features {}..{}) emitted, {} rows in {} blocks, peak {} bytes",
            self.config.tag,
            chunk.feature_start,
            chunk.feature_end,
            self.blocks.iter().map(|b| b.rows.n_rows).sum::<usize>(),
            self.blocks.len(),
            self.peak_bytes()
        );
        Ok(hist)
    }

    /// Root j's 2-D histograms against every g, for every slot of the chunk (`slabs[slot]`).
    fn fill_root(&self, layout: &PairLayout, j: usize, local: &[Vec<u32>], slabs: &mut [&mut [i64]]) {
        let r = layout.root_start + j;
        let k = self.config.n_arms;
        for (block, loc) in self.blocks.iter().zip(local) {
            let n = block.rows.n_rows;
            for (g, &codes_g) in layout.codes.iter().enumerate() {
                let at = Pairs { off: layout.pair_offset(j, g), codes_g, gamma: &block.rows.gamma, local: loc };
                match &block.rows.codes {
                    Codes::U8(c) => at.add(&c[r * n..(r + 1) * n], &c[g * n..(g + 1) * n], slabs, k),
                    Codes::U16(c) => at.add(&c[r * n..(r + 1) * n], &c[g * n..(g + 1) * n], slabs, k),
                }
            }
        }
    }
}

/// A row outside the chunk's slots.
const NONE: u32 = u32::MAX;

/// One (root, g) pass over a block: where the 2-D histogram starts inside each slot's root part.
struct Pairs<'a> {
    off: usize,
    codes_g: usize,
    gamma: &'a [i64],
    local: &'a [u32],
}

impl Pairs<'_> {
    fn add<C: Copy + Into<usize>>(&self, code_r: &[C], code_g: &[C], slabs: &mut [&mut [i64]], k: usize) {
        match k {
            2 => self.rows(code_r, code_g, slabs, Fixed::<2>),
            3 => self.rows(code_r, code_g, slabs, Fixed::<3>),
            4 => self.rows(code_r, code_g, slabs, Fixed::<4>),
            _ => self.rows(code_r, code_g, slabs, Dynamic(k)),
        }
    }

    /// The hot loop: K sums and a count into cell (code_r, code_g) of the row's slot.
    #[inline(always)]
    fn rows<C: Copy + Into<usize>, A: Arms>(&self, code_r: &[C], code_g: &[C], slabs: &mut [&mut [i64]], arms: A) {
        let k = arms.get();
        for (((&a, &b), &s), g) in code_r.iter().zip(code_g).zip(self.local).zip(self.gamma.chunks_exact(k)) {
            if s == NONE {
                continue;
            }
            let cell = self.off + (a.into() * self.codes_g + b.into()) * (k + 1);
            let h = &mut slabs[s as usize][cell..cell + k + 1];
            for x in 0..k {
                h[x] += g[x];
            }
            h[k] += 1;
        }
    }
}

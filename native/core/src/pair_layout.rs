//! The pair histogram cell layout, the one format `pairKernelEmit` returns and `bestSubtree` reads.
//!
//! One flat i64 array indexed `[node slot][root r of the chunk][g in 0..F][code_r][code_g][K sums, count]`:
//! for each frontier slot and each root feature r of the chunk's root range, one 2-D histogram per
//! feature g of the data (every feature, g = r included, in contract order), rows over r's codes and
//! columns over g's codes. Codes are the histogram's (coarse) codes, value bins then the missing
//! code, last on both axes. Each cell holds `stride = K + 1` values: the K channel sums, then the row
//! count. A node's part of a chunk (`node_len` cells, one contiguous slot) is the unit merged across
//! partitions and searched for a subtree; root r's part of it is `root(j)`, its slice against g is
//! `codes_r × codes_g` cells from `pair_offset(j, g)`.

use std::ops::Range;

#[derive(Debug, Clone)]
pub struct PairLayout {
    pub n_arms: usize,
    /// Histogram codes of every feature g.
    pub codes: Vec<usize>,
    /// Contract index of the first root feature; roots are `root_start..root_start + root_offsets.len()`.
    pub root_start: usize,
    /// Offset of each root's part inside a node, and `node_len` after the last.
    root_offsets: Vec<usize>,
    /// Σ of codes over g before each g, and the total after the last.
    code_prefix: Vec<usize>,
    /// i64 cells per node.
    pub node_len: usize,
}

impl PairLayout {
    /// The layout of root features `root_start..root_end` against every feature of `codes`.
    pub fn new(n_arms: usize, codes: &[usize], root_start: usize, root_end: usize) -> PairLayout {
        let stride = n_arms + 1;
        let code_prefix: Vec<usize> = std::iter::once(0)
            .chain(codes.iter().scan(0, |acc, &c| {
                *acc += c;
                Some(*acc)
            }))
            .collect();
        let all_codes = code_prefix[codes.len()];
        let mut root_offsets = vec![0];
        for &c in &codes[root_start..root_end] {
            root_offsets.push(root_offsets.last().unwrap() + c * all_codes * stride);
        }
        let node_len = *root_offsets.last().unwrap();
        PairLayout { n_arms, codes: codes.to_vec(), root_start, root_offsets, code_prefix, node_len }
    }

    #[inline]
    pub fn stride(&self) -> usize {
        self.n_arms + 1
    }

    pub fn n_roots(&self) -> usize {
        self.root_offsets.len() - 1
    }

    /// Σ_g codes_g: the codes of one row of a root's 2-D histograms, over every g.
    pub fn all_codes(&self) -> usize {
        self.code_prefix[self.codes.len()]
    }

    /// Where g's codes start in a row over every g (in codes, not cells).
    #[inline]
    pub fn code_offset(&self, g: usize) -> usize {
        self.code_prefix[g]
    }

    /// Root `j` (contract feature `root_start + j`)'s cells inside a node's histogram.
    #[inline]
    pub fn root(&self, j: usize) -> Range<usize> {
        self.root_offsets[j]..self.root_offsets[j + 1]
    }

    /// Where root `j`'s 2-D histogram against g starts, relative to the root's part.
    #[inline]
    pub fn pair_offset(&self, j: usize, g: usize) -> usize {
        self.codes[self.root_start + j] * self.code_prefix[g] * self.stride()
    }

    /// Slot `s`'s node histogram inside a chunk's histograms.
    #[inline]
    pub fn node(&self, s: usize) -> Range<usize> {
        s * self.node_len..(s + 1) * self.node_len
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_follow_slot_root_feature_code_code_order() {
        // Features with 3, 2 and 4 codes; roots 1..3; K = 1 (stride 2); Σ codes = 9.
        let l = PairLayout::new(1, &[3, 2, 4], 1, 3);
        assert_eq!((l.n_roots(), l.all_codes(), l.stride()), (2, 9, 2));
        assert_eq!((l.root(0), l.root(1), l.node_len), (0..36, 36..108, 108));
        // Root 1 (2 codes) against g = 2: after 2 × (3 + 2) codes × stride 2.
        assert_eq!((l.pair_offset(0, 0), l.pair_offset(0, 2), l.pair_offset(1, 1)), (0, 20, 24));
        assert_eq!((l.code_offset(2), l.node(1)), (5, 108..216));
    }
}

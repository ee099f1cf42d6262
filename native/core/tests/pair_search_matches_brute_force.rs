//! The two-level search (`pair` kernel + `pair_search`) must return exactly what a brute force over
//! every depth-2 tree returns, enumerated from the rows: each root split (every feature, threshold,
//! missing side, "missing vs the rest", categorical one vs the rest), each child its best split or a
//! leaf, `min_node_size` honoured. The maximum reward must be equal, the root must be the first
//! maximum in loop order (root features ascending, then the greedy candidate order), and the children
//! the first best split of each side. Rows are spread over partitions (a kernel each) and blocks, and
//! the partitions' histograms are merged by adding, as `reduceByKey` does. Seeded loops, no proptest:
//! the cases are drawn with structure (one categorical feature, coarse cuts) that is easier to state directly.

mod common;

use sparkpolicy_core::block::TrainingBlock;
use sparkpolicy_core::config::{Chunk, PairConfig, PairSplitConfig};
use sparkpolicy_core::node_table::{NodeTable, TreeNode};
use sparkpolicy_core::pair::PairKernel;
use sparkpolicy_core::pair_search::{best_subtree, SubtreeBest};
use sparkpolicy_core::split::{best_arm, SplitCandidate};

/// SplitMix64.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in lo..=hi.
    fn int(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.next() % (hi - lo + 1) as u64) as i64
    }
}

const F: usize = 3;

#[derive(Debug, Clone)]
struct Case {
    /// Block codes per feature: value bins + missing. Feature 2 is categorical (its last value bin empty).
    fine_codes: Vec<usize>,
    categorical: Vec<bool>,
    /// Empty, or per feature (numeric ones only) the fine edge indices of the coarse grid.
    cuts: Vec<Option<Vec<u32>>>,
    codes: Vec<Vec<u16>>,
    gamma: Vec<i64>,
    n_arms: usize,
    min_node_size: u64,
}

fn random_case(rng: &mut Rng, coarse: bool) -> Case {
    let n = rng.int(20, 80) as usize;
    let n_arms = rng.int(2, 4) as usize;
    let categorical = vec![false, false, true];
    let fine_codes: Vec<usize> =
        categorical.iter().map(|&cat| if cat { rng.int(4, 6) } else if coarse { rng.int(5, 9) } else { rng.int(3, 7) } as usize).collect();
    let codes = fine_codes
        .iter()
        .zip(&categorical)
        .map(|(&c, &cat)| {
            let value_bins = c as i64 - 1;
            let used = if cat { value_bins - 1 } else { value_bins };
            let missing_rate = rng.int(0, 2);
            (0..n).map(|_| if rng.int(0, 9) < missing_rate { value_bins as u16 } else { rng.int(0, used - 1) as u16 }).collect()
        })
        .collect();
    let cuts = if coarse {
        fine_codes
            .iter()
            .zip(&categorical)
            .map(|(&c, &cat)| (!cat && rng.int(0, 2) > 0).then(|| (0..(c - 2) as u32).filter(|_| rng.int(0, 1) == 1).collect()))
            .collect()
    } else {
        Vec::new()
    };
    let gamma = (0..n * n_arms).map(|_| rng.int(-2, 2)).collect();
    Case { fine_codes, categorical, cuts, codes, gamma, n_arms, min_node_size: rng.int(1, 4) as u64 }
}

impl Case {
    fn n_rows(&self) -> usize {
        self.codes[0].len()
    }

    fn cut(&self, f: usize) -> Option<&Vec<u32>> {
        self.cuts.get(f).and_then(|c| c.as_ref())
    }

    /// Histogram codes of feature f, computed from the cuts here, not by `CoarseMap`.
    fn hist_codes(&self, f: usize) -> usize {
        self.cut(f).map_or(self.fine_codes[f], |c| c.len() + 2)
    }

    /// Row r's histogram code of feature f: the number of cuts below its fine code; missing stays last.
    fn code(&self, f: usize, r: usize) -> usize {
        let fine = self.codes[f][r] as usize;
        match self.cut(f) {
            None => fine,
            Some(c) if fine == self.fine_codes[f] - 1 => c.len() + 1,
            Some(c) => c.iter().filter(|&&x| (x as usize) < fine).count(),
        }
    }

    /// A histogram threshold as a fine code: coarse edge b is fine edge cuts[b]; the last value bin
    /// ("missing vs the rest") is the fine last value bin.
    fn fine(&self, f: usize, b: usize) -> usize {
        match self.cut(f) {
            None => b,
            Some(c) => c.get(b).map_or(self.fine_codes[f] - 2, |&x| x as usize),
        }
    }

    fn sums(&self, rows: &[usize]) -> Vec<i64> {
        let k = self.n_arms;
        let mut s = vec![0i64; k + 1];
        for &r in rows {
            s.iter_mut().zip(&self.gamma[r * k..(r + 1) * k]).for_each(|(a, g)| *a += g);
            s[k] += 1;
        }
        s
    }

    fn leaf_value(&self, rows: &[usize]) -> i128 {
        best_arm(&self.sums(rows)[..self.n_arms]).1 as i128
    }

    /// Every split of `rows` on feature f in loop order.
    fn splits(&self, rows: &[usize], f: usize) -> Vec<RowSplit> {
        let n_codes = self.hist_codes(f);
        let (value_bins, missing) = (n_codes - 1, n_codes - 1);
        let has_missing = rows.iter().any(|&r| self.code(f, r) == missing);
        let cat = self.categorical[f];
        let mut out = Vec::new();
        let thresholds = (0..value_bins - 1).filter(|&b| !cat || rows.iter().any(|&r| self.code(f, r) == b));
        let sides: &[Option<bool>] = if has_missing { &[Some(false), Some(true)] } else { &[None] };
        let mut candidates: Vec<(usize, Option<bool>)> = thresholds.flat_map(|b| sides.iter().map(move |&s| (b, s))).collect();
        if has_missing {
            candidates.push((value_bins - 1, Some(false)));
        }
        for (b, side) in candidates {
            let goes_left = |r: usize| {
                let c = self.code(f, r);
                if c == missing {
                    side == Some(true)
                } else if cat && b < value_bins - 1 {
                    c == b
                } else {
                    c <= b
                }
            };
            let (left, right): (Vec<usize>, Vec<usize>) = rows.iter().partition(|&&r| goes_left(r));
            if (left.len() as u64) >= self.min_node_size && (right.len() as u64) >= self.min_node_size {
                out.push((b, side, left, right));
            }
        }
        out
    }

    fn candidate(&self, f: usize, b: usize, side: Option<bool>, reward: i128, left: &[usize], right: &[usize]) -> SplitCandidate {
        let missing_left = side.unwrap_or(left.len() >= right.len());
        SplitCandidate { feature: f, threshold_bin: self.fine(f, b), missing_left, reward, left: self.sums(left), right: self.sums(right) }
    }

    /// The first best single split of `rows`, features ascending.
    fn best_split(&self, rows: &[usize]) -> Option<SplitCandidate> {
        let mut best: Option<SplitCandidate> = None;
        for f in 0..F {
            for (b, side, left, right) in self.splits(rows, f) {
                let reward = self.leaf_value(&left) + self.leaf_value(&right);
                if best.as_ref().is_none_or(|c| reward > c.reward) {
                    best = Some(self.candidate(f, b, side, reward, &left, &right));
                }
            }
        }
        best
    }

    /// Every depth-2 tree with its root on one of `roots`: the first best, with its children's splits.
    fn best_tree(&self, rows: &[usize], roots: impl Iterator<Item = usize>) -> Option<(SplitCandidate, Vec<usize>, Vec<usize>)> {
        let mut best: Option<(SplitCandidate, Vec<usize>, Vec<usize>)> = None;
        for f in roots {
            for (b, side, left, right) in self.splits(rows, f) {
                let value = |s: &[usize]| self.best_split(s).map_or_else(|| self.leaf_value(s), |c| c.reward);
                let reward = value(&left) + value(&right);
                if best.as_ref().is_none_or(|(c, _, _)| reward > c.reward) {
                    best = Some((self.candidate(f, b, side, reward, &left, &right), left, right));
                }
            }
        }
        best
    }

    fn brute_force(&self, rows: &[usize], roots: std::ops::Range<usize>) -> SubtreeBest {
        let Some((best, left, right)) = self.best_tree(rows, roots.clone()) else { return SubtreeBest::default() };
        let runner_up = self.best_tree(rows, roots.filter(|&f| f != best.feature)).map(|t| t.0);
        SubtreeBest { left_child: self.best_split(&left), right_child: self.best_split(&right), best: Some(best), runner_up }
    }

    fn block(&self, rows: &[usize]) -> TrainingBlock {
        let k = self.n_arms;
        let codes = self.codes.iter().map(|c| rows.iter().map(|&r| c[r]).collect()).collect();
        let gamma = rows.iter().flat_map(|&r| self.gamma[r * k..(r + 1) * k].to_vec()).collect();
        common::u8_block(codes, gamma, k)
    }

    fn split_config(&self, roots: std::ops::Range<usize>) -> PairSplitConfig {
        PairSplitConfig {
            n_arms: self.n_arms,
            min_node_size: self.min_node_size,
            feature_start: roots.start,
            feature_end: roots.end,
            codes_per_feature: (0..F).map(|f| self.hist_codes(f)).collect(),
            categorical: self.categorical.clone(),
            fine_codes: if self.cuts.is_empty() { Vec::new() } else { self.fine_codes.clone() },
            coarse_cuts: self.cuts.clone(),
        }
    }
}

/// A split of rows: (histogram threshold, missing side, left rows, right rows).
type RowSplit = (usize, Option<bool>, Vec<usize>, Vec<usize>);

/// A training tree and its frontier: the root alone, or the root split on feature 0 at fine code 0.
fn tree(k: usize, split: Option<bool>) -> (NodeTable, Vec<u32>) {
    let leaf = |id| common::leaf_node(id, 0, 0, vec![0.0; k]);
    match split {
        None => (NodeTable { n_arms: k, nodes: vec![leaf(1)] }, vec![1]),
        Some(missing_left) => {
            let root = TreeNode { is_leaf: false, feature: 0, threshold_bin: 0, missing_left, ..leaf(1) };
            (NodeTable { n_arms: k, nodes: vec![root, leaf(2), leaf(3)] }, vec![2, 3])
        }
    }
}

/// The frontier slots' rows, routed as the tree above routes them.
fn slot_rows(case: &Case, split: Option<bool>) -> Vec<Vec<usize>> {
    let all: Vec<usize> = (0..case.n_rows()).collect();
    match split {
        None => vec![all],
        Some(missing_left) => {
            let missing = (case.fine_codes[0] - 1) as u16;
            let left = |r: &usize| if case.codes[0][*r] == missing { missing_left } else { case.codes[0][*r] == 0 };
            let (l, r): (Vec<usize>, Vec<usize>) = all.into_iter().partition(left);
            vec![l, r]
        }
    }
}

/// Each chunk's pair histograms, the rows spread over `partitions` kernels (two blocks each) and merged by adding.
fn histograms(case: &Case, split: Option<bool>, chunks: &[Chunk], partitions: usize, threads: usize) -> Vec<Vec<i64>> {
    let (tree, frontier) = tree(case.n_arms, split);
    let config = PairConfig {
        n_arms: case.n_arms,
        codes_per_feature: case.fine_codes.clone(),
        coarse_cuts: case.cuts.clone(),
        frontier,
        chunks: chunks.to_vec(),
        threads,
        tag: "test".into(),
        skip_rows: None,
    };
    let all: Vec<usize> = (0..case.n_rows()).collect();
    let mut merged: Vec<Vec<i64>> = vec![Vec::new(); chunks.len()];
    for part in all.chunks(case.n_rows().div_ceil(partitions)) {
        let mut kernel = PairKernel::new(tree.clone(), config.clone()).unwrap();
        for rows in part.chunks(part.len().div_ceil(2)) {
            kernel.add_block(TrainingBlock::decode(&case.block(rows).encode()).unwrap()).unwrap();
        }
        for (i, m) in merged.iter_mut().enumerate() {
            let h = kernel.emit(i).unwrap();
            if m.is_empty() {
                *m = h;
            } else {
                m.iter_mut().zip(&h).for_each(|(a, b)| *a += b);
            }
        }
    }
    merged
}

/// Checks one case; returns how many of its slots have a depth-2 root other than the greedy split.
fn check(case: &Case, split: Option<bool>, partitions: usize) -> usize {
    let n_slots = if split.is_some() { 2 } else { 1 };
    let one = [Chunk { slot_start: 0, slot_end: n_slots, feature_start: 0, feature_end: F }];
    let hist = &histograms(case, split, &one, partitions, 1)[0];
    let node_len = hist.len() / n_slots;
    let mut differs = 0;
    for (s, rows) in slot_rows(case, split).iter().enumerate() {
        let got = best_subtree(&hist[s * node_len..(s + 1) * node_len], &case.split_config(0..F)).unwrap();
        assert_eq!(got, case.brute_force(rows, 0..F), "slot {s} of {case:?}");
        let key = |c: &SplitCandidate| (c.feature, c.threshold_bin, c.missing_left);
        differs += usize::from(got.best.as_ref().map(key) != case.best_split(rows).as_ref().map(key));
    }
    // Root blocks [0, 1) and [1, 3) in two chunks: the same cells, and each block's own best and runner-up.
    let two = [Chunk { feature_end: 1, ..one[0] }, Chunk { feature_start: 1, ..one[0] }];
    let parts = histograms(case, split, &two, partitions, 1);
    let (len0, len1) = (parts[0].len() / n_slots, parts[1].len() / n_slots);
    for (s, rows) in slot_rows(case, split).iter().enumerate() {
        let joined = [&parts[0][s * len0..(s + 1) * len0], &parts[1][s * len1..(s + 1) * len1]].concat();
        assert_eq!(joined, hist[s * node_len..(s + 1) * node_len], "slot {s}");
        let second = best_subtree(&parts[1][s * len1..(s + 1) * len1], &case.split_config(1..F)).unwrap();
        assert_eq!(second, case.brute_force(rows, 1..F));
    }
    differs
}

#[test]
fn pair_search_equals_brute_force_over_every_depth2_tree() {
    let mut rng = Rng(11);
    let mut differs = 0;
    for i in 0..300 {
        let case = random_case(&mut rng, false);
        let split = [None, Some(false), Some(true)][i % 3];
        differs += check(&case, split, 1 + i % 3);
    }
    // The look-ahead changes the root often enough for the comparison to mean something.
    assert!(differs > 100, "only {differs} slots where the depth-2 root is not the greedy one");
}

#[test]
fn pair_search_on_coarse_cuts_equals_brute_force_on_the_coarse_grid() {
    let mut rng = Rng(12);
    let mut differs = 0;
    for i in 0..300 {
        let case = random_case(&mut rng, true);
        differs += check(&case, [None, Some(true), Some(false)][i % 3], 1 + i % 2);
    }
    assert!(differs > 100, "only {differs} slots where the depth-2 root is not the greedy one");
}

#[test]
fn histograms_do_not_depend_on_thread_count() {
    let mut rng = Rng(13);
    for i in 0..40 {
        let case = random_case(&mut rng, i % 2 == 1);
        let chunks = [Chunk { slot_start: 0, slot_end: 2, feature_start: 0, feature_end: F }];
        let one = histograms(&case, Some(i % 4 == 0), &chunks, 2, 1);
        for threads in [2, 3, 8] {
            assert_eq!(histograms(&case, Some(i % 4 == 0), &chunks, 2, threads), one, "{threads} threads");
        }
    }
}

#[test]
fn xor_policy_is_found_where_greedy_gains_nothing() {
    // Arm 1 pays iff (x0 > 1) xor (x1 > 1) on codes 0..4, x2 is noise: every single split gains nothing.
    let (mut codes, mut gamma) = (vec![Vec::new(); F], Vec::new());
    for a in 0..4u16 {
        for b in 0..4u16 {
            for c in 0..2u16 {
                codes[0].push(a);
                codes[1].push(b);
                codes[2].push(c);
                let arm1 = (a > 1) != (b > 1);
                gamma.extend_from_slice(if arm1 { &[0, 1] } else { &[1, 0] });
            }
        }
    }
    let case = Case { fine_codes: vec![5, 5, 4], categorical: vec![false; F], cuts: Vec::new(), codes, gamma, n_arms: 2, min_node_size: 1 };
    let rows: Vec<usize> = (0..32).collect();
    assert_eq!(case.best_split(&rows).unwrap().reward, case.leaf_value(&rows));
    let hist = &histograms(&case, None, &[Chunk { slot_start: 0, slot_end: 1, feature_start: 0, feature_end: F }], 2, 2)[0];
    let got = best_subtree(hist, &case.split_config(0..F)).unwrap();
    let best = got.best.clone().unwrap();
    assert_eq!((best.feature, best.threshold_bin, best.reward), (0, 1, 32));
    let (l, r) = (got.left_child.as_ref().unwrap(), got.right_child.as_ref().unwrap());
    assert_eq!((l.feature, l.threshold_bin, r.feature, r.threshold_bin), (1, 1, 1, 1));
    assert_eq!(got.runner_up.as_ref().map(|c| (c.feature, c.threshold_bin, c.reward)), Some((1, 1, 32)));
    assert_eq!(got, case.brute_force(&rows, 0..F));
}

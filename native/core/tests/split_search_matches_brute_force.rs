//! The histogram split search must return exactly the split a brute-force scan over every
//! candidate (feature, threshold, missing side) returns, rows summed one by one — ties included.
//! Categorical features (one category code vs the rest) are drawn beside numeric ones.

mod common;

use proptest::prelude::*;
use sparkpolicy_core::block::TrainingBlock;
use sparkpolicy_core::config::{Chunk, Criterion, KernelConfig, SplitConfig};
use sparkpolicy_core::histogram::HistogramKernel;
use sparkpolicy_core::node_table::{NodeTable, TreeNode};
use sparkpolicy_core::row_sample::{Half, RowSample};
use sparkpolicy_core::split::{best_arm, best_split, best_split_among, SplitCandidate};

#[derive(Debug, Clone)]
struct Case {
    codes_per_feature: Vec<usize>,
    /// Categorical features leave their last value bin empty, as the JVM's code edges do.
    categorical: Vec<bool>,
    codes: Vec<Vec<u16>>,
    gamma: Vec<i64>,
    n_arms: usize,
    min_node_size: u64,
}

fn case() -> impl Strategy<Value = Case> {
    (1usize..5, 2usize..5, 1usize..120, 1u64..4, 0u32..3).prop_flat_map(|(n_features, n_arms, n_rows, min_node_size, missing_rate)| {
        let codes_per_feature = prop::collection::vec(2usize..7, n_features);
        let categorical = prop::collection::vec(any::<bool>(), n_features);
        // Small reward range so that ties between candidates and arms are frequent.
        let gamma = prop::collection::vec(-3i64..4, n_rows * n_arms);
        (codes_per_feature, categorical, gamma, Just(n_arms), Just(n_rows), Just(min_node_size), Just(missing_rate)).prop_flat_map(
            |(cpf, categorical, gamma, n_arms, n_rows, min_node_size, missing_rate)| {
                // A categorical feature needs a category and the empty top bin: at least 3 codes.
                let categorical: Vec<bool> = categorical.iter().zip(&cpf).map(|(&c, &n)| c && n >= 3).collect();
                let cols: Vec<_> = cpf
                    .iter()
                    .zip(&categorical)
                    .map(|(&c, &cat)| {
                        let value_bins = (c - 1) as u16;
                        let used = if cat { value_bins - 1 } else { value_bins };
                        prop::collection::vec((0u16..used, 0u32..10), n_rows).prop_map(move |v| {
                            v.into_iter().map(|(code, m)| if m < missing_rate { value_bins } else { code }).collect::<Vec<u16>>()
                        })
                    })
                    .collect();
                (cols, Just(cpf), Just(categorical), Just(gamma), Just(n_arms), Just(min_node_size)).prop_map(
                    |(codes, codes_per_feature, categorical, gamma, n_arms, min_node_size)| Case {
                        codes_per_feature,
                        categorical,
                        codes,
                        gamma,
                        n_arms,
                        min_node_size,
                    },
                )
            },
        )
    })
}

fn leaf(id: u32, k: usize) -> TreeNode {
    common::leaf_node(id, 0, 0, vec![0.0; k])
}

/// Sums (K arms + count) over the rows of `rows` selected by `pick`.
fn sums(case: &Case, rows: &[usize], pick: impl Fn(usize) -> bool) -> Vec<i64> {
    let k = case.n_arms;
    let mut s = vec![0i64; k + 1];
    for &r in rows.iter().filter(|&&r| pick(r)) {
        for (acc, g) in s.iter_mut().zip(&case.gamma[r * k..(r + 1) * k]) {
            *acc += g;
        }
        s[k] += 1;
    }
    s
}

fn brute_force(case: &Case, rows: &[usize]) -> Option<SplitCandidate> {
    brute_force_excluding(case, rows, None)
}

fn brute_force_excluding(case: &Case, rows: &[usize], excluded: Option<usize>) -> Option<SplitCandidate> {
    brute_force_among(case, rows, |f| Some(f) != excluded)
}

fn brute_force_among(case: &Case, rows: &[usize], searched: impl Fn(usize) -> bool) -> Option<SplitCandidate> {
    let k = case.n_arms;
    let mut best: Option<SplitCandidate> = None;
    for (f, &n_codes) in case.codes_per_feature.iter().enumerate().filter(|(f, _)| searched(*f)) {
        let missing = (n_codes - 1) as u16;
        let is_missing = |r: usize| case.codes[f][r] == missing;
        let has_missing = rows.iter().any(|&r| is_missing(r));
        // Thresholds between value bins (categorical: each code present in the node), then (with
        // missing rows) "missing vs the rest" at b = value_bins − 1.
        let value_bins = n_codes - 1;
        let cat = case.categorical[f];
        let candidates: Vec<(usize, Option<bool>)> = (0..value_bins.saturating_sub(1))
            .filter(|&b| !cat || rows.iter().any(|&r| case.codes[f][r] as usize == b))
            .flat_map(|b| if has_missing { vec![(b, Some(false)), (b, Some(true))] } else { vec![(b, None)] })
            .chain(has_missing.then_some((value_bins - 1, Some(false))))
            .collect();
        for (b, side) in candidates {
            {
                let one_vs_rest = cat && b < value_bins - 1;
                let goes_left = |r: usize| {
                    let code = case.codes[f][r] as usize;
                    if is_missing(r) {
                        side == Some(true)
                    } else if one_vs_rest {
                        code == b
                    } else {
                        code <= b
                    }
                };
                let left = sums(case, rows, goes_left);
                let right = sums(case, rows, |r| !goes_left(r));
                if (left[k] as u64) < case.min_node_size || (right[k] as u64) < case.min_node_size {
                    continue;
                }
                let reward = best_arm(&left[..k]).1 as i128 + best_arm(&right[..k]).1 as i128;
                if best.as_ref().is_none_or(|c| reward > c.reward) {
                    let missing_left = side.unwrap_or(left[k] >= right[k]);
                    best = Some(SplitCandidate { feature: f, threshold_bin: b, missing_left, reward, left, right });
                }
            }
        }
    }
    best
}

fn block_of(case: &Case, rows: &[usize]) -> TrainingBlock {
    let k = case.n_arms;
    let codes = case.codes.iter().map(|c| rows.iter().map(|&r| c[r]).collect()).collect();
    let gamma = rows.iter().flat_map(|&r| case.gamma[r * k..(r + 1) * k].to_vec()).collect();
    common::u8_block(codes, gamma, k)
}

fn hashed_block_of(case: &Case, rows: &[usize]) -> TrainingBlock {
    let k = case.n_arms;
    let codes = case.codes.iter().map(|c| rows.iter().map(|&r| c[r]).collect()).collect();
    let gamma = rows.iter().flat_map(|&r| case.gamma[r * k..(r + 1) * k].iter().copied().chain([row_hash(r)])).collect();
    common::u8_block(codes, gamma, k + 1)
}

/// Histograms for `frontier` of `tree`, with the rows split over `n_blocks` blocks and the
/// features over two chunks, as partitions and memory budgets would split them.
fn kernel_histograms(case: &Case, tree: &NodeTable, frontier: &[u32], n_blocks: usize) -> Vec<Vec<i64>> {
    kernel_histograms_threads(case, tree, frontier, n_blocks, 1)
}

fn kernel_histograms_threads(case: &Case, tree: &NodeTable, frontier: &[u32], n_blocks: usize, threads: usize) -> Vec<Vec<i64>> {
    kernel_histograms_sampled(case, tree, frontier, n_blocks, threads, None)
}

/// A forest row's hash channel: any integer the JVM's `>>> 11` of a 64-bit hash can give.
fn row_hash(r: usize) -> i64 {
    (sparkpolicy_core::row_sample::mix(r as u64 * 7919) >> 11) as i64
}

/// With `sample`, the blocks carry each row's hash as one more channel and the kernel takes the sample's rows.
fn kernel_histograms_sampled(
    case: &Case,
    tree: &NodeTable,
    frontier: &[u32],
    n_blocks: usize,
    threads: usize,
    sample: Option<RowSample>,
) -> Vec<Vec<i64>> {
    let n_rows = case.codes[0].len();
    let f = case.codes_per_feature.len();
    let mid = f.div_ceil(2);
    let mut chunks = vec![Chunk { slot_start: 0, slot_end: frontier.len(), feature_start: 0, feature_end: mid }];
    if mid < f {
        chunks.push(Chunk { slot_start: 0, slot_end: frontier.len(), feature_start: mid, feature_end: f });
    }
    let config = KernelConfig {
        n_arms: case.n_arms,
        codes_per_feature: case.codes_per_feature.clone(),
        frontier: frontier.to_vec(),
        chunks: chunks.clone(),
        threads,
        tag: String::new(),
        skip_rows: None,
        coarse_cuts: Vec::new(),
        row_sample: sample,
        bounds: false,
    };
    let mut kernel = HistogramKernel::new(tree.clone(), config).unwrap();
    let all: Vec<usize> = (0..n_rows).collect();
    for part in all.chunks(n_rows.div_ceil(n_blocks)) {
        let block = if sample.is_some() { hashed_block_of(case, part) } else { block_of(case, part) };
        // Through the byte format too, as blocks travel between JVM and kernel.
        kernel.add_block(TrainingBlock::decode(&block.encode()).unwrap()).unwrap();
    }
    let stride = case.n_arms + 1;
    let per_feature = |range: std::ops::Range<usize>| range.map(|j| case.codes_per_feature[j] * stride).sum::<usize>();
    let mut per_slot = vec![Vec::new(); frontier.len()];
    for (i, c) in chunks.iter().enumerate() {
        let hist = kernel.emit(i).unwrap();
        let len = per_feature(c.feature_start..c.feature_end);
        for (s, h) in per_slot.iter_mut().enumerate() {
            h.extend_from_slice(&hist[s * len..(s + 1) * len]);
        }
    }
    per_slot
}

fn search(case: &Case, hist: &[i64]) -> Option<SplitCandidate> {
    let config = SplitConfig {
        n_arms: case.n_arms,
        min_node_size: case.min_node_size,
        feature_start: 0,
        codes_per_feature: case.codes_per_feature.clone(),
        categorical: case.categorical.clone(),
        criterion: Criterion::Policy,
        outcome_arms: 0,
        fine_codes: Vec::new(),
        coarse_cuts: Vec::new(),
        bounds: false,
        refine_limit: 0,
    };
    best_split(hist, &config).unwrap().best
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn root_split_equals_brute_force(case in case(), n_blocks in 1usize..4) {
        let tree = NodeTable { n_arms: case.n_arms, nodes: vec![leaf(1, case.n_arms)] };
        let hists = kernel_histograms(&case, &tree, &[1], n_blocks);
        let rows: Vec<usize> = (0..case.codes[0].len()).collect();
        prop_assert_eq!(search(&case, &hists[0]), brute_force(&case, &rows));
    }

    #[test]
    fn child_splits_equal_brute_force_after_routing(case in case(), missing_left: bool) {
        // Split the root on feature 0 at its first threshold, then search both children.
        let n_codes = case.codes_per_feature[0];
        prop_assume!(n_codes >= 3);
        let k = case.n_arms;
        let mut root = leaf(1, k);
        root.is_leaf = false;
        root.feature = 0;
        root.threshold_bin = 0;
        root.missing_left = missing_left;
        // On feature 0 with code 0 as threshold or category: the same rows go left either way.
        root.categorical = case.categorical[0];
        let tree = NodeTable { n_arms: k, nodes: vec![root, leaf(2, k), leaf(3, k)] };
        let hists = kernel_histograms(&case, &tree, &[2, 3], 2);
        let missing = (n_codes - 1) as u16;
        let goes_left = |r: usize| if case.codes[0][r] == missing { missing_left } else { case.codes[0][r] == 0 };
        let n_rows = case.codes[0].len();
        let left_rows: Vec<usize> = (0..n_rows).filter(|&r| goes_left(r)).collect();
        let right_rows: Vec<usize> = (0..n_rows).filter(|&r| !goes_left(r)).collect();
        prop_assert_eq!(search(&case, &hists[0]), brute_force(&case, &left_rows));
        prop_assert_eq!(search(&case, &hists[1]), brute_force(&case, &right_rows));
    }

    #[test]
    fn runner_up_is_the_best_split_on_another_feature(case in case()) {
        let tree = NodeTable { n_arms: case.n_arms, nodes: vec![leaf(1, case.n_arms)] };
        let hists = kernel_histograms(&case, &tree, &[1], 1);
        let config = SplitConfig { n_arms: case.n_arms, min_node_size: case.min_node_size, feature_start: 0, codes_per_feature: case.codes_per_feature.clone(), categorical: case.categorical.clone(), criterion: Criterion::Policy, outcome_arms: 0, fine_codes: Vec::new(), coarse_cuts: Vec::new(), bounds: false, refine_limit: 0 };
        let result = best_split(&hists[0], &config).unwrap();
        let rows: Vec<usize> = (0..case.codes[0].len()).collect();
        let expected = result.best.as_ref().and_then(|b| brute_force_excluding(&case, &rows, Some(b.feature)));
        prop_assert_eq!(result.runner_up, expected);
    }

    #[test]
    fn a_forest_trees_rows_and_features_equal_brute_force(
        case in case(), n_blocks in 1usize..4, tree_id in 0u32..50, rate in 0.2f64..1.0, half in 0usize..3,
        mask in prop::collection::vec(any::<bool>(), 5),
    ) {
        let half = [Half::All, Half::Structure, Half::Estimation][half];
        let sample = RowSample { seed: 7, tree: tree_id, threshold: (rate * RowSample::ALL_ROWS as f64) as u64, half };
        let tree = NodeTable { n_arms: case.n_arms, nodes: vec![leaf(1, case.n_arms)] };
        let hists = kernel_histograms_sampled(&case, &tree, &[1], n_blocks, 1, Some(sample));
        let rows: Vec<usize> = (0..case.codes[0].len()).filter(|&r| sample.takes(row_hash(r))).collect();
        let allowed = &mask[..case.codes_per_feature.len()];
        let config = SplitConfig { n_arms: case.n_arms, min_node_size: case.min_node_size, feature_start: 0, codes_per_feature: case.codes_per_feature.clone(), categorical: case.categorical.clone(), criterion: Criterion::Policy, outcome_arms: 0, fine_codes: Vec::new(), coarse_cuts: Vec::new(), bounds: false, refine_limit: 0 };
        let found = best_split_among(&hists[0], &config, allowed).unwrap().best;
        prop_assert_eq!(found, brute_force_among(&case, &rows, |f| allowed[f]));
        // The subsample's count is what the histogram holds.
        let stride = case.n_arms + 1;
        prop_assert_eq!(hists[0][..case.codes_per_feature[0] * stride].chunks(stride).map(|c| c[case.n_arms]).sum::<i64>(), rows.len() as i64);
    }

    #[test]
    fn histograms_do_not_depend_on_thread_count(case in case(), threads in 2usize..5) {
        let tree = NodeTable { n_arms: case.n_arms, nodes: vec![leaf(1, case.n_arms)] };
        prop_assert_eq!(kernel_histograms_threads(&case, &tree, &[1], 2, 1), kernel_histograms_threads(&case, &tree, &[1], 2, threads));
    }

    #[test]
    fn histograms_do_not_depend_on_blocking(case in case()) {
        let tree = NodeTable { n_arms: case.n_arms, nodes: vec![leaf(1, case.n_arms)] };
        let one = kernel_histograms(&case, &tree, &[1], 1);
        let many = kernel_histograms(&case, &tree, &[1], 3);
        prop_assert_eq!(one, many);
    }
}

#[test]
fn ties_go_to_the_first_candidate_in_loop_order() {
    // Two identical features: every candidate of feature 1 ties with feature 0's; feature 0 must win,
    // and within it the lowest threshold that reaches the best reward.
    let case = Case {
        codes_per_feature: vec![4, 4],
        categorical: vec![false, false],
        codes: vec![vec![0, 1, 2, 2], vec![0, 1, 2, 2]],
        gamma: vec![5, 0, 5, 0, 0, 5, 0, 5],
        n_arms: 2,
        min_node_size: 1,
    };
    let tree = NodeTable { n_arms: 2, nodes: vec![leaf(1, 2)] };
    let hists = kernel_histograms(&case, &tree, &[1], 1);
    let best = search(&case, &hists[0]).unwrap();
    assert_eq!((best.feature, best.threshold_bin), (0, 1));
    assert_eq!(best.reward, 20);
}

#[test]
fn a_category_in_the_middle_splits_off() {
    // Codes 0, 1, 2 (bin 3 empty, 4 = missing): only code 1 favours arm 1, so no threshold isolates it,
    // and categorical ties go to the lowest code first.
    let case = Case {
        codes_per_feature: vec![5, 5],
        categorical: vec![false, true],
        codes: vec![vec![0, 1, 2, 4], vec![0, 1, 2, 4]],
        gamma: vec![5, 0, 0, 5, 5, 0, 5, 0],
        n_arms: 2,
        min_node_size: 1,
    };
    let tree = NodeTable { n_arms: 2, nodes: vec![leaf(1, 2)] };
    let hists = kernel_histograms(&case, &tree, &[1], 1);
    let best = search(&case, &hists[0]).unwrap();
    assert_eq!((best.feature, best.threshold_bin, best.missing_left, best.reward), (1, 1, false, 20));
    let rows: Vec<usize> = (0..4).collect();
    assert_eq!(Some(best), brute_force(&case, &rows));
}

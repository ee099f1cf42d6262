//! The outcome (nuisance) tree's split search — blocks with per-arm channels, the kernel leaving
//! one fold out, the outcome criterion — must return exactly the split an exhaustive scan over the
//! raw rows returns: every (feature, threshold, missing side), rows of the held-out fold excluded,
//! the criterion Σ_a S_a²/n_a left + right computed from sums taken row by row, first maximum wins.
//! Categorical features (one code vs the rest) are drawn beside numeric ones, as for the policy search.

mod common;

use proptest::prelude::*;
use sparkpolicy_core::block::TrainingBlock;
use sparkpolicy_core::config::{Chunk, Criterion, KernelConfig, SkipRows, SplitConfig};
use sparkpolicy_core::histogram::HistogramKernel;
use sparkpolicy_core::node_table::{NodeTable, TreeNode};
use sparkpolicy_core::split::{best_split, SplitCandidate};

#[derive(Debug, Clone)]
struct Rows {
    codes_per_feature: Vec<usize>,
    /// Categorical features leave their last value bin empty, as the JVM's code edges do.
    categorical: Vec<bool>,
    codes: Vec<Vec<u16>>,
    arm: Vec<usize>,
    /// Fixed-point outcome of each row.
    y: Vec<i64>,
    fold: Vec<i64>,
    arms: usize,
    min_node_size: u64,
}

const FOLDS: i64 = 3;

fn rows() -> impl Strategy<Value = Rows> {
    (1usize..4, 1usize..4, 2usize..90, 1u64..4).prop_flat_map(|(n_features, arms, n, min_node_size)| {
        let cpf = prop::collection::vec(2usize..7, n_features);
        let cat = prop::collection::vec(any::<bool>(), n_features);
        (cpf, cat, Just(arms), Just(n), Just(min_node_size)).prop_flat_map(|(cpf, cat, arms, n, min_node_size)| {
            let categorical: Vec<bool> = cat.iter().zip(&cpf).map(|(&c, &k)| c && k >= 3).collect();
            let cols: Vec<_> = cpf
                .iter()
                .zip(&categorical)
                .map(|(&c, &is_cat)| {
                    let value_bins = (c - 1) as u16;
                    let used = if is_cat { value_bins - 1 } else { value_bins };
                    prop::collection::vec((0u16..used, 0u32..8), n)
                        .prop_map(move |v| v.into_iter().map(|(code, m)| if m == 0 { value_bins } else { code }).collect::<Vec<u16>>())
                })
                .collect();
            (
                cols,
                Just(cpf),
                Just(categorical),
                prop::collection::vec(0usize..arms, n),
                prop::collection::vec(-20i64..21, n),
                prop::collection::vec(0i64..FOLDS, n),
                Just(arms),
                Just(min_node_size),
            )
                .prop_map(|(codes, codes_per_feature, categorical, arm, y, fold, arms, min_node_size)| Rows {
                    codes_per_feature,
                    categorical,
                    codes,
                    arm,
                    y,
                    fold,
                    arms,
                    min_node_size,
                })
        })
    })
}

fn channels(rows: &Rows) -> usize {
    2 * rows.arms + 1
}

fn leaf(id: u32, k: usize) -> TreeNode {
    common::leaf_node(id, 0, 0, vec![0.0; k])
}

/// Per-arm sums [S_a.., n_a.., fold sum] and the row count, row by row.
fn sums(rows: &Rows, picked: impl Iterator<Item = usize>) -> Vec<i64> {
    let k = channels(rows);
    let mut s = vec![0i64; k + 1];
    for r in picked {
        s[rows.arm[r]] += rows.y[r];
        s[rows.arms + rows.arm[r]] += 1;
        s[2 * rows.arms] += rows.fold[r];
        s[k] += 1;
    }
    s
}

fn criterion(s: &[i64], arms: usize) -> f64 {
    (0..arms).filter(|&a| s[arms + a] > 0).map(|a| (s[a] as f64) * (s[a] as f64) / s[arms + a] as f64).sum()
}

fn brute_force(rows: &Rows, members: &[usize]) -> Option<SplitCandidate> {
    let k = channels(rows);
    let mut best: Option<(f64, SplitCandidate)> = None;
    for (f, &n_codes) in rows.codes_per_feature.iter().enumerate() {
        let missing = (n_codes - 1) as u16;
        let has_missing = members.iter().any(|&r| rows.codes[f][r] == missing);
        let value_bins = n_codes - 1;
        let cat = rows.categorical[f];
        let candidates: Vec<(usize, Option<bool>)> = (0..value_bins.saturating_sub(1))
            .filter(|&b| !cat || members.iter().any(|&r| rows.codes[f][r] as usize == b))
            .flat_map(|b| if has_missing { vec![(b, Some(false)), (b, Some(true))] } else { vec![(b, None)] })
            .chain(has_missing.then_some((value_bins - 1, Some(false))))
            .collect();
        for (b, side) in candidates {
            let one_vs_rest = cat && b < value_bins - 1;
            let goes_left = |r: usize| {
                let code = rows.codes[f][r] as usize;
                if rows.codes[f][r] == missing {
                    side == Some(true)
                } else if one_vs_rest {
                    code == b
                } else {
                    code <= b
                }
            };
            let left = sums(rows, members.iter().copied().filter(|&r| goes_left(r)));
            let right = sums(rows, members.iter().copied().filter(|&r| !goes_left(r)));
            if (left[k] as u64) < rows.min_node_size || (right[k] as u64) < rows.min_node_size {
                continue;
            }
            let score = criterion(&left, rows.arms) + criterion(&right, rows.arms);
            if best.as_ref().is_none_or(|(s, _)| score > *s) {
                let missing_left = side.unwrap_or(left[k] >= right[k]);
                let reward = score.to_bits() as i64 as i128;
                best = Some((score, SplitCandidate { feature: f, threshold_bin: b, missing_left, reward, left, right }));
            }
        }
    }
    best.map(|(_, c)| c)
}

/// The native path: rows in `n_blocks` blocks, a kernel that skips `held_out`'s rows, the outcome search.
fn native(rows: &Rows, tree: &NodeTable, frontier: &[u32], held_out: i64, n_blocks: usize) -> Vec<Option<SplitCandidate>> {
    let k = channels(rows);
    let n = rows.arm.len();
    let config = KernelConfig {
        n_arms: k,
        codes_per_feature: rows.codes_per_feature.clone(),
        frontier: frontier.to_vec(),
        chunks: vec![Chunk { slot_start: 0, slot_end: frontier.len(), feature_start: 0, feature_end: rows.codes_per_feature.len() }],
        threads: 1,
        tag: String::new(),
        skip_rows: Some(SkipRows { channel: 2 * rows.arms, value: held_out }),
        coarse_cuts: Vec::new(),
        row_sample: None,
        bounds: false,
    };
    let mut kernel = HistogramKernel::new(tree.clone(), config).unwrap();
    let all: Vec<usize> = (0..n).collect();
    for part in all.chunks(n.div_ceil(n_blocks)) {
        let codes = rows.codes.iter().map(|c| part.iter().map(|&r| c[r]).collect()).collect();
        let gamma = part
            .iter()
            .flat_map(|&r| {
                let mut g = vec![0i64; k];
                g[rows.arm[r]] = rows.y[r];
                g[rows.arms + rows.arm[r]] = 1;
                g[2 * rows.arms] = rows.fold[r];
                g
            })
            .collect();
        let block = common::u8_block(codes, gamma, k);
        kernel.add_block(TrainingBlock::decode(&block.encode()).unwrap()).unwrap();
    }
    let hist = kernel.emit(0).unwrap();
    let len = hist.len() / frontier.len();
    let split = SplitConfig {
        n_arms: k,
        min_node_size: rows.min_node_size,
        feature_start: 0,
        codes_per_feature: rows.codes_per_feature.clone(),
        criterion: Criterion::Outcome,
        outcome_arms: rows.arms,
        fine_codes: Vec::new(),
        coarse_cuts: Vec::new(),
        categorical: rows.categorical.clone(),
        bounds: false,
        refine_limit: 0,
    };
    (0..frontier.len()).map(|s| best_split(&hist[s * len..(s + 1) * len], &split).unwrap().best).collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn root_split_equals_brute_force_without_the_held_out_fold(rows in rows(), held_out in 0i64..FOLDS, n_blocks in 1usize..4) {
        let k = channels(&rows);
        let tree = NodeTable { n_arms: k, nodes: vec![leaf(1, k)] };
        let members: Vec<usize> = (0..rows.arm.len()).filter(|&r| rows.fold[r] != held_out).collect();
        prop_assert_eq!(native(&rows, &tree, &[1], held_out, n_blocks).remove(0), brute_force(&rows, &members));
    }

    #[test]
    fn child_splits_equal_brute_force_after_routing(rows in rows(), held_out in 0i64..FOLDS, missing_left: bool) {
        prop_assume!(rows.codes_per_feature[0] >= 3);
        let k = channels(&rows);
        let mut root = leaf(1, k);
        root.is_leaf = false;
        root.feature = 0;
        root.threshold_bin = 0;
        root.missing_left = missing_left;
        root.categorical = rows.categorical[0]; // code 0: the same rows go left either way
        let tree = NodeTable { n_arms: k, nodes: vec![root, leaf(2, k), leaf(3, k)] };
        let missing = (rows.codes_per_feature[0] - 1) as u16;
        let goes_left = |r: usize| if rows.codes[0][r] == missing { missing_left } else { rows.codes[0][r] == 0 };
        let kept = |r: &usize| rows.fold[*r] != held_out;
        let left: Vec<usize> = (0..rows.arm.len()).filter(kept).filter(|&r| goes_left(r)).collect();
        let right: Vec<usize> = (0..rows.arm.len()).filter(kept).filter(|&r| !goes_left(r)).collect();
        let got = native(&rows, &tree, &[2, 3], held_out, 2);
        prop_assert_eq!(&got[0], &brute_force(&rows, &left));
        prop_assert_eq!(&got[1], &brute_force(&rows, &right));
    }
}

#[test]
fn a_held_out_fold_changes_nothing_it_does_not_own() {
    // Rows of fold 0 carry outcomes that would dominate the split; leaving fold 0 out, only fold 1's
    // rows count, and their split is on the feature where their outcomes differ.
    let rows = Rows {
        codes_per_feature: vec![3, 3],
        categorical: vec![false, false],
        codes: vec![vec![0, 1, 0, 1, 0, 1], vec![0, 0, 1, 1, 0, 1]],
        arm: vec![0; 6],
        y: vec![100, -100, 0, 0, 5, -5],
        fold: vec![0, 0, 1, 1, 1, 1],
        arms: 1,
        min_node_size: 1,
    };
    let tree = NodeTable { n_arms: 3, nodes: vec![leaf(1, 3)] };
    let best = native(&rows, &tree, &[1], 0, 1).remove(0).unwrap();
    assert_eq!(best.left[2] + best.right[2], 4, "only fold 1's four rows are counted");
    assert_eq!(best, brute_force(&rows, &[2, 3, 4, 5]).unwrap());
}

//! Coarse search then refinement must return exactly what a brute-force scan over the fine thresholds
//! of the refinement window returns (rows summed one by one, ties to the first in loop order), never
//! less than the coarse winner, and the exhaustive fine optimum whenever that optimum lies in the window.
//! Rows come in several blocks (partitions) whose partial histograms are added, as `reduceByKey` does.
//! A forest tree's refine kernel (a row sample over blocks carrying the row hash) counts exactly the
//! rows its sample takes.

mod common;

use proptest::prelude::*;
use sparkpolicy_core::config::{Chunk, KernelConfig, RefineConfig, RefineWindow, SplitConfig, WindowRange};
use sparkpolicy_core::histogram::HistogramKernel;
use sparkpolicy_core::node_table::NodeTable;
use sparkpolicy_core::refine::{refine_split, RefineKernel};
use sparkpolicy_core::row_sample::{mix, Half, RowSample};
use sparkpolicy_core::split::{best_arm, best_split, SplitCandidate};

#[derive(Debug, Clone)]
struct Case {
    /// Fine codes of the one feature: value bins + missing.
    fine_codes: usize,
    cuts: Vec<u32>,
    codes: Vec<u16>,
    gamma: Vec<i64>,
    n_arms: usize,
    min_node_size: u64,
    blocks: usize,
}

fn case() -> impl Strategy<Value = Case> {
    (8usize..40, 2usize..5, 2usize..150, 1u64..4, 0u32..3, 1usize..4).prop_flat_map(
        |(fine_codes, n_arms, n, min_node_size, missing, blocks)| {
            let fine_edges = fine_codes - 2;
            (
                prop::collection::btree_set(0u32..fine_edges as u32, 1..(fine_edges / 2).max(2)),
                prop::collection::vec((0u16..(fine_codes - 1) as u16, 0u32..10), n),
                prop::collection::vec(-3i64..4, n * n_arms),
            )
                .prop_map(move |(cuts, codes, gamma)| Case {
                    fine_codes,
                    cuts: cuts.into_iter().collect(),
                    codes: codes.into_iter().map(|(c, m)| if m < missing { (fine_codes - 1) as u16 } else { c }).collect(),
                    gamma,
                    n_arms,
                    min_node_size,
                    blocks,
                })
        },
    )
}

/// The first best fine candidate with threshold in `lo..=hi`, straight from the rows, in the loop order
/// of the split search (thresholds ascending, missing right then left when the node has missing rows).
fn brute_force(c: &Case, lo: usize, hi: usize) -> Option<(usize, bool, i128)> {
    let k = c.n_arms;
    let missing = c.fine_codes - 1;
    let has_missing = c.codes.iter().any(|&v| v as usize == missing);
    let mut best: Option<(usize, bool, i128)> = None;
    for t in lo..=hi {
        for side in if has_missing { vec![Some(false), Some(true)] } else { vec![None] } {
            let goes_left = |code: usize| if code == missing { side == Some(true) } else { code <= t };
            let (mut l, mut r) = (vec![0i64; k + 1], vec![0i64; k + 1]);
            for (row, &code) in c.codes.iter().enumerate() {
                let s = if goes_left(code as usize) { &mut l } else { &mut r };
                (0..k).for_each(|a| s[a] += c.gamma[row * k + a]);
                s[k] += 1;
            }
            if (l[k] as u64) < c.min_node_size || (r[k] as u64) < c.min_node_size {
                continue;
            }
            let reward = best_arm(&l[..k]).1 as i128 + best_arm(&r[..k]).1 as i128;
            if best.is_none_or(|b| reward > b.2) {
                best = Some((t, side.unwrap_or(l[k] >= r[k]), reward));
            }
        }
    }
    best
}

fn blocks(c: &Case) -> Vec<sparkpolicy_core::block::TrainingBlock> {
    let n = c.codes.len();
    let per = n.div_ceil(c.blocks);
    (0..n)
        .step_by(per)
        .map(|s| {
            let e = (s + per).min(n);
            common::u8_block(vec![c.codes[s..e].to_vec()], c.gamma[s * c.n_arms..e * c.n_arms].to_vec(), c.n_arms)
        })
        .collect()
}

fn root() -> NodeTable {
    NodeTable { n_arms: 0, nodes: vec![] }
}

fn add(acc: &mut Vec<i64>, part: Vec<i64>) {
    if acc.is_empty() {
        *acc = part;
    } else {
        acc.iter_mut().zip(part).for_each(|(a, v)| *a += v);
    }
}

/// Coarse kernel + split search, then refine kernel + refine split, over the case's blocks.
fn coarse_then_refine(c: &Case) -> (Option<SplitCandidate>, Option<SplitCandidate>, Option<(usize, usize)>) {
    let mut tree = root();
    tree.n_arms = c.n_arms;
    tree.nodes = vec![common::leaf_node(1, 0, 0, vec![0.0; c.n_arms])];
    let cuts = vec![Some(c.cuts.clone())];
    let kernel_config = KernelConfig {
        n_arms: c.n_arms,
        codes_per_feature: vec![c.fine_codes],
        frontier: vec![1],
        chunks: vec![Chunk { slot_start: 0, slot_end: 1, feature_start: 0, feature_end: 1 }],
        threads: 1,
        tag: String::new(),
        skip_rows: None,
        coarse_cuts: cuts.clone(),
        row_sample: None,
    };
    let mut coarse = Vec::new();
    for block in blocks(c) {
        let mut kernel = HistogramKernel::new(tree.clone(), kernel_config.clone()).unwrap();
        kernel.add_block(block).unwrap();
        add(&mut coarse, kernel.emit(0).unwrap());
    }
    let split = SplitConfig {
        n_arms: c.n_arms,
        min_node_size: c.min_node_size,
        feature_start: 0,
        codes_per_feature: vec![c.cuts.len() + 2],
        criterion: Default::default(),
        outcome_arms: 0,
        categorical: vec![],
        fine_codes: vec![c.fine_codes],
        coarse_cuts: cuts,
    };
    let result = best_split(&coarse, &split).unwrap();
    let Some(window) = result.window.clone() else { return (result.best, None, None) };
    let refine_config = RefineConfig {
        n_arms: c.n_arms,
        codes_per_feature: vec![c.fine_codes],
        frontier: vec![1],
        windows: vec![RefineWindow { slot: 0, feature: 0, lo: window.lo, hi: window.hi }],
        chunks: vec![WindowRange { start: 0, end: 1 }],
        tag: String::new(),
        skip_rows: None,
        row_sample: None,
    };
    let mut fine = vec![0i64; (window.hi - window.lo + 1) * (c.n_arms + 1)];
    for block in blocks(c) {
        let mut kernel = RefineKernel::new(tree.clone(), refine_config.clone()).unwrap();
        kernel.add_block(block).unwrap();
        fine.iter_mut().zip(kernel.emit(0).unwrap()).for_each(|(a, v)| *a += v);
    }
    let totals = sparkpolicy_core::split::node_totals(
        &coarse,
        &sparkpolicy_core::histogram_layout::HistogramLayout::new(c.n_arms, &split.codes_per_feature),
    );
    let refined = refine_split(0, &window, &fine, &totals, &split).unwrap();
    (result.best, refined, Some((window.lo, window.hi)))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn refinement_is_the_window_brute_force_and_never_worse(c in case()) {
        let (coarse, refined, window) = coarse_then_refine(&c);
        match window {
            None => {
                // Nothing to refine: no candidate, "missing vs the rest", or a window of the winner alone.
                if let Some(b) = &coarse {
                    let edges = c.fine_codes - 2;
                    let at = c.cuts.iter().position(|&x| x as usize == b.threshold_bin);
                    let lone = at.is_some_and(|j| {
                        let lo = if j == 0 { 0 } else { c.cuts[j - 1] as usize + 1 };
                        let hi = c.cuts.get(j + 1).map_or(edges - 1, |&x| x as usize - 1);
                        lo == hi
                    });
                    prop_assert!(b.threshold_bin == edges || lone, "{b:?} has a window");
                }
            }
            Some((lo, hi)) => {
                let coarse = coarse.unwrap();
                prop_assert!(lo <= coarse.threshold_bin && coarse.threshold_bin <= hi, "coarse winner {} outside window {lo}..={hi}", coarse.threshold_bin);
                let refined = refined.unwrap();
                prop_assert!(refined.reward >= coarse.reward);
                let expected = brute_force(&c, lo, hi).unwrap();
                prop_assert_eq!((refined.threshold_bin, refined.missing_left, refined.reward), expected);
                // The whole fine grid's optimum is found whenever it lies inside the window.
                let exhaustive = brute_force(&c, 0, c.fine_codes - 3).unwrap();
                if (lo..=hi).contains(&exhaustive.0) {
                    prop_assert_eq!(refined.reward, exhaustive.2);
                }
            }
        }
    }
}

/// The window histograms of `config` over `blocks`, one kernel per block, summed.
fn window_histograms(tree: &NodeTable, config: &RefineConfig, blocks: Vec<sparkpolicy_core::block::TrainingBlock>) -> Vec<i64> {
    let mut acc = Vec::new();
    for block in blocks {
        let mut kernel = RefineKernel::new(tree.clone(), config.clone()).unwrap();
        kernel.add_block(block).unwrap();
        add(&mut acc, kernel.emit(0).unwrap());
    }
    acc
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn a_sampled_refine_kernel_counts_only_its_rows(c in case(), seed in any::<i64>(), tree_id in 0u32..50, rate in 0.05f64..1.0,
        half in prop::sample::select(vec![Half::All, Half::Structure, Half::Estimation])) {
        let k = c.n_arms;
        let mut tree = root();
        tree.n_arms = k;
        tree.nodes = vec![common::leaf_node(1, 0, 0, vec![0.0; k])];
        let n = c.codes.len();
        let hashes: Vec<i64> = (0..n).map(|i| (mix(i as u64 ^ 0x5eed) >> 11) as i64).collect();
        let sample = RowSample { seed, tree: tree_id, threshold: ((rate * RowSample::ALL_ROWS as f64).round() as u64).clamp(1, RowSample::ALL_ROWS), half };
        let lo = 0;
        let hi = c.fine_codes - 3;
        let config = RefineConfig {
            n_arms: k,
            codes_per_feature: vec![c.fine_codes],
            frontier: vec![1],
            windows: vec![RefineWindow { slot: 0, feature: 0, lo, hi }],
            chunks: vec![WindowRange { start: 0, end: 1 }],
            tag: String::new(),
            skip_rows: None,
            row_sample: None,
        };
        // The forest's blocks: Γ then the row hash, per row, in the case's partitions.
        let per = n.div_ceil(c.blocks);
        let with_hash: Vec<_> = (0..n).step_by(per).map(|s| {
            let e = (s + per).min(n);
            let gamma = (s..e).flat_map(|r| c.gamma[r * k..(r + 1) * k].iter().copied().chain([hashes[r]])).collect();
            common::u8_block(vec![c.codes[s..e].to_vec()], gamma, k + 1)
        }).collect();
        let sampled = window_histograms(&tree, &RefineConfig { row_sample: Some(sample), ..config.clone() }, with_hash);
        // The same rows filtered by hand, in one plain block.
        let kept: Vec<usize> = (0..n).filter(|&r| sample.takes(hashes[r])).collect();
        let expected = if kept.is_empty() {
            vec![0i64; (hi - lo + 1) * (k + 1)]
        } else {
            let codes = kept.iter().map(|&r| c.codes[r]).collect();
            let gamma = kept.iter().flat_map(|&r| c.gamma[r * k..(r + 1) * k].iter().copied()).collect();
            window_histograms(&tree, &config, vec![common::u8_block(vec![codes], gamma, k)])
        };
        prop_assert_eq!(sampled, expected);
    }
}

#[test]
fn a_sampled_refine_kernel_refuses_blocks_without_the_hash_channel() {
    let mut tree = root();
    tree.n_arms = 2;
    tree.nodes = vec![common::leaf_node(1, 0, 0, vec![0.0; 2])];
    let config = RefineConfig {
        n_arms: 2,
        codes_per_feature: vec![6],
        frontier: vec![1],
        windows: vec![RefineWindow { slot: 0, feature: 0, lo: 0, hi: 2 }],
        chunks: vec![WindowRange { start: 0, end: 1 }],
        tag: String::new(),
        skip_rows: None,
        row_sample: Some(RowSample { seed: 1, tree: 0, threshold: RowSample::ALL_ROWS, half: Half::All }),
    };
    let mut kernel = RefineKernel::new(tree, config).unwrap();
    let e = kernel.add_block(common::u8_block(vec![vec![0, 1]], vec![1, 2, 3, 4], 2)).unwrap_err().to_string();
    assert!(e.contains("2 channels") && e.contains("1 × 3"), "{e}");
}

//! Coarse search with bounds, then refinement of the bins whose bound reaches the coarse best, must
//! return exactly the exhaustive search over every fine threshold of every feature (rows summed one by
//! one, ties to the first in loop order: features ascending, thresholds ascending, missing right then
//! left, then "missing vs the rest"). Rows come in several blocks (partitions) whose partial histograms
//! are added, as `reduceByKey` does; the driver's rule (a group's best replaces its feature's coarse
//! candidate, the first best over features wins) is replayed here as `ThresholdRefinement` applies it.
//! A forest tree's refine kernel (a row sample over blocks carrying the row hash) counts exactly the
//! rows its sample takes.

mod common;

use proptest::prelude::*;
use sparkpolicy_core::coarse::CoarseMap;
use sparkpolicy_core::config::{Chunk, GroupRange, KernelConfig, RefineConfig, RefineGroup, RefineSplitConfig, SplitConfig};
use sparkpolicy_core::histogram::HistogramKernel;
use sparkpolicy_core::node_table::NodeTable;
use sparkpolicy_core::refine::{refine_split, GroupGrid, RefineKernel};
use sparkpolicy_core::row_sample::{mix, Half, RowSample};
use sparkpolicy_core::split::{best_arm, best_split, SplitCandidate};

#[derive(Debug, Clone)]
struct Feature {
    /// Fine codes: value bins + missing.
    fine_codes: usize,
    cuts: Vec<u32>,
    codes: Vec<u16>,
}

#[derive(Debug, Clone)]
struct Case {
    features: Vec<Feature>,
    gamma: Vec<i64>,
    n_arms: usize,
    min_node_size: u64,
    blocks: usize,
}

fn feature(n: usize, missing: u32) -> impl Strategy<Value = Feature> {
    (8usize..40).prop_flat_map(move |fine_codes| {
        let fine_edges = fine_codes - 2;
        (
            prop::collection::btree_set(0u32..fine_edges as u32, 1..(fine_edges / 2).max(2)),
            // Few distinct codes at times, so many fine bins are empty and ties are common.
            prop::collection::vec((0u16..(fine_codes - 1) as u16, 0u32..10), n),
        )
            .prop_map(move |(cuts, codes)| Feature {
                fine_codes,
                cuts: cuts.into_iter().collect(),
                codes: codes.into_iter().map(|(c, m)| if m < missing { (fine_codes - 1) as u16 } else { c }).collect(),
            })
    })
}

fn case() -> impl Strategy<Value = Case> {
    (1usize..4, 2usize..5, 2usize..150, 1u64..4, 0u32..3, 1usize..4, -3i64..1).prop_flat_map(
        |(n_features, n_arms, n, min_node_size, missing, blocks, low)| {
            (prop::collection::vec(feature(n, missing), n_features), prop::collection::vec(low..4, n * n_arms))
                .prop_map(move |(features, gamma)| Case { features, gamma, n_arms, min_node_size, blocks })
        },
    )
}

/// The exhaustive search: the first best (feature, fine threshold, missing side) straight from the rows.
fn brute_force(c: &Case) -> Option<(usize, usize, bool, i128)> {
    let k = c.n_arms;
    let mut best: Option<(usize, usize, bool, i128)> = None;
    for (f, feat) in c.features.iter().enumerate() {
        let missing = feat.fine_codes - 1;
        let has_missing = feat.codes.iter().any(|&v| v as usize == missing);
        let sides = if has_missing { vec![Some(false), Some(true)] } else { vec![None] };
        let mut candidates: Vec<(usize, Option<bool>)> =
            (0..=feat.fine_codes - 3).flat_map(|t| sides.iter().map(move |&s| (t, s))).collect();
        if has_missing {
            candidates.push((feat.fine_codes - 2, Some(false)));
        }
        for (t, side) in candidates {
            let goes_left = |code: usize| if code == missing { side == Some(true) } else { code <= t };
            let (mut l, mut r) = (vec![0i64; k + 1], vec![0i64; k + 1]);
            for (row, &code) in feat.codes.iter().enumerate() {
                let s = if goes_left(code as usize) { &mut l } else { &mut r };
                (0..k).for_each(|a| s[a] += c.gamma[row * k + a]);
                s[k] += 1;
            }
            if (l[k] as u64) < c.min_node_size || (r[k] as u64) < c.min_node_size {
                continue;
            }
            let reward = best_arm(&l[..k]).1 as i128 + best_arm(&r[..k]).1 as i128;
            if best.is_none_or(|b| reward > b.3) {
                best = Some((f, t, side.unwrap_or(l[k] >= r[k]), reward));
            }
        }
    }
    best
}

fn blocks(c: &Case) -> Vec<sparkpolicy_core::block::TrainingBlock> {
    let n = c.features[0].codes.len();
    let per = n.div_ceil(c.blocks);
    (0..n)
        .step_by(per)
        .map(|s| {
            let e = (s + per).min(n);
            let columns = c.features.iter().map(|f| f.codes[s..e].to_vec()).collect();
            common::u8_block(columns, c.gamma[s * c.n_arms..e * c.n_arms].to_vec(), c.n_arms)
        })
        .collect()
}

fn root(n_arms: usize) -> NodeTable {
    NodeTable { n_arms, nodes: vec![common::leaf_node(1, 0, 0, vec![0.0; n_arms])] }
}

fn add(acc: &mut Vec<i64>, part: Vec<i64>) {
    if acc.is_empty() {
        *acc = part;
    } else {
        acc.iter_mut().zip(part).for_each(|(a, v)| *a += v);
    }
}

fn refine_config(c: &Case, groups: Vec<RefineGroup>) -> RefineConfig {
    let n = groups.len();
    RefineConfig {
        n_arms: c.n_arms,
        codes_per_feature: c.features.iter().map(|f| f.fine_codes).collect(),
        coarse_cuts: c.features.iter().map(|f| Some(f.cuts.clone())).collect(),
        frontier: vec![1],
        groups,
        chunks: vec![GroupRange { start: 0, end: n }],
        tag: String::new(),
        skip_rows: None,
        row_sample: None,
    }
}

/// Coarse kernel + split search with bounds, then refine kernel + refine split of every group, over the
/// case's blocks; returns the coarse best, the refined winner and the number of bins refined.
fn coarse_then_refine(c: &Case) -> (Option<SplitCandidate>, Option<SplitCandidate>, usize) {
    let tree = root(c.n_arms);
    let cuts: Vec<Option<Vec<u32>>> = c.features.iter().map(|f| Some(f.cuts.clone())).collect();
    let n_features = c.features.len();
    let kernel_config = KernelConfig {
        n_arms: c.n_arms,
        codes_per_feature: c.features.iter().map(|f| f.fine_codes).collect(),
        frontier: vec![1],
        chunks: vec![Chunk { slot_start: 0, slot_end: 1, feature_start: 0, feature_end: n_features }],
        threads: 1 + n_features % 2, // one or two threads: the same bits
        tag: String::new(),
        skip_rows: None,
        coarse_cuts: cuts.clone(),
        row_sample: None,
        bounds: true,
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
        codes_per_feature: c.features.iter().map(|f| f.cuts.len() + 2).collect(),
        criterion: Default::default(),
        outcome_arms: 0,
        categorical: vec![],
        fine_codes: c.features.iter().map(|f| f.fine_codes).collect(),
        coarse_cuts: cuts,
        bounds: true,
        refine_limit: 0,
    };
    let result = best_split(&coarse, &split).unwrap();
    // A limited record lists the best's own bins and the `limit` largest bounds of the others, with the
    // largest bound it leaves out.
    for limit in [1, 3] {
        let limited = best_split(&coarse, &SplitConfig { refine_limit: limit, ..split.clone() }).unwrap();
        // The best's coarse edge j (its fine threshold is cut j): bins j and j + 1.
        let own: Vec<(usize, usize)> = result
            .best
            .iter()
            .flat_map(|b| match c.features[b.feature].cuts.iter().position(|&x| x as usize == b.threshold_bin) {
                Some(j) => vec![(b.feature, j), (b.feature, j + 1)],
                None => vec![],
            })
            .collect();
        let (mine, mut rest): (Vec<_>, Vec<_>) = result.refine.iter().copied().partition(|b| own.contains(&(b.feature, b.bin)));
        rest.sort_by(|a, b| b.bound.cmp(&a.bound).then((a.feature, a.bin).cmp(&(b.feature, b.bin))));
        let mut expected: Vec<_> = mine.into_iter().chain(rest.iter().copied().take(limit)).collect();
        expected.sort_by_key(|b| (b.feature, b.bin));
        assert_eq!(limited.refine, expected);
        assert_eq!(limited.left_out, rest.get(limit).map(|b| b.bound));
        assert_eq!((limited.best, result.left_out), (result.best.clone(), None));
    }
    let reach = result.best.as_ref().map(|b| b.reward);
    let mut groups: Vec<RefineGroup> = Vec::new();
    for b in result.refine.iter().filter(|b| reach.is_none_or(|r| b.bound >= r)) {
        match groups.last_mut() {
            Some(g) if g.feature == b.feature => g.bins.push(b.bin),
            _ => groups.push(RefineGroup { slot: 0, feature: b.feature, bins: vec![b.bin] }),
        }
    }
    let n_bins = groups.iter().map(|g| g.bins.len()).sum();
    if groups.is_empty() {
        return (result.best.clone(), result.best, 0);
    }
    let config = refine_config(c, groups.clone());
    let mut hist = Vec::new();
    for block in blocks(c) {
        let mut kernel = RefineKernel::new(tree.clone(), config.clone()).unwrap();
        kernel.add_block(block).unwrap();
        add(&mut hist, kernel.emit(0).unwrap());
    }
    // The driver's rule: each group's best replaces its feature's coarse candidate; first best by feature.
    let mut candidates: Vec<SplitCandidate> =
        result.best.iter().filter(|b| groups.iter().all(|g| g.feature != b.feature)).cloned().collect();
    let mut at = 0;
    for g in &groups {
        let f = &c.features[g.feature];
        let map = CoarseMap::new(g.feature, f.fine_codes, Some(&f.cuts)).unwrap();
        let len = GroupGrid::new(g.feature, &map, &g.bins).unwrap().cells() * (c.n_arms + 1);
        let rs = RefineSplitConfig {
            n_arms: c.n_arms,
            min_node_size: c.min_node_size,
            feature: g.feature,
            fine_codes: f.fine_codes,
            cuts: f.cuts.clone(),
            bins: g.bins.clone(),
        };
        candidates.extend(refine_split(&hist[at..at + len], &rs).unwrap());
        at += len;
    }
    assert_eq!(at, hist.len());
    candidates.sort_by_key(|x| x.feature);
    let winner = candidates.into_iter().fold(None::<SplitCandidate>, |b, x| match b {
        Some(b) if x.reward <= b.reward => Some(b),
        _ => Some(x),
    });
    (result.best, winner, n_bins)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(600))]

    #[test]
    fn refinement_is_the_exhaustive_search(c in case()) {
        let (coarse, refined, _) = coarse_then_refine(&c);
        let expected = brute_force(&c);
        prop_assert_eq!(refined.as_ref().map(|r| (r.feature, r.threshold_bin, r.missing_left, r.reward)), expected);
        if let (Some(coarse), Some(refined)) = (coarse, refined) {
            prop_assert!(refined.reward >= coarse.reward);
        }
    }
}

#[test]
fn a_clear_winner_prunes_the_other_bins() {
    // 200 rows, feature 0 with 32 fine bins: arm 1 pays +10 below fine code 20, arm 0 above; feature 1 is
    // noise of ±1. Only the bins around the winner can reach it.
    let n = 200;
    let codes0: Vec<u16> = (0..n).map(|i| (i % 30) as u16).collect();
    let codes1: Vec<u16> = (0..n).map(|i| ((i * 7) % 30) as u16).collect();
    let gamma: Vec<i64> = (0..n).flat_map(|i| if i % 30 <= 20 { [0, 10] } else { [10, 0] }).collect();
    let feature = |codes: Vec<u16>| Feature { fine_codes: 32, cuts: vec![3, 7, 11, 15, 19, 23, 27], codes };
    let c = Case { features: vec![feature(codes0), feature(codes1)], gamma, n_arms: 2, min_node_size: 1, blocks: 2 };
    let (_, refined, n_bins) = coarse_then_refine(&c);
    let refined = refined.unwrap();
    assert_eq!((refined.feature, refined.threshold_bin), (0, 20));
    assert!(n_bins <= 2, "{n_bins} bins refined");
}

/// The group histograms of `config` over `blocks`, one kernel per block, summed.
fn group_histograms(tree: &NodeTable, config: &RefineConfig, blocks: Vec<sparkpolicy_core::block::TrainingBlock>) -> Vec<i64> {
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
        let tree = root(k);
        let f = &c.features[0];
        let n = f.codes.len();
        let hashes: Vec<i64> = (0..n).map(|i| (mix(i as u64 ^ 0x5eed) >> 11) as i64).collect();
        let sample = RowSample { seed, tree: tree_id, threshold: ((rate * RowSample::ALL_ROWS as f64).round() as u64).clamp(1, RowSample::ALL_ROWS), half };
        let one = Case { features: vec![f.clone()], ..c.clone() };
        let config = refine_config(&one, vec![RefineGroup { slot: 0, feature: 0, bins: (0..=f.cuts.len()).collect() }]);
        // The forest's blocks: Γ then the row hash, per row, in the case's partitions.
        let per = n.div_ceil(c.blocks);
        let with_hash: Vec<_> = (0..n).step_by(per).map(|s| {
            let e = (s + per).min(n);
            let gamma = (s..e).flat_map(|r| c.gamma[r * k..(r + 1) * k].iter().copied().chain([hashes[r]])).collect();
            common::u8_block(vec![f.codes[s..e].to_vec()], gamma, k + 1)
        }).collect();
        let sampled = group_histograms(&tree, &RefineConfig { row_sample: Some(sample), ..config.clone() }, with_hash);
        // The same rows filtered by hand, in one plain block.
        let kept: Vec<usize> = (0..n).filter(|&r| sample.takes(hashes[r])).collect();
        let expected = if kept.is_empty() {
            vec![0i64; f.fine_codes * (k + 1)]
        } else {
            let codes = kept.iter().map(|&r| f.codes[r]).collect();
            let gamma = kept.iter().flat_map(|&r| c.gamma[r * k..(r + 1) * k].iter().copied()).collect();
            group_histograms(&tree, &config, vec![common::u8_block(vec![codes], gamma, k)])
        };
        prop_assert_eq!(sampled, expected);
    }
}

#[test]
fn a_sampled_refine_kernel_refuses_blocks_without_the_hash_channel() {
    let tree = root(2);
    let c = Case {
        features: vec![Feature { fine_codes: 6, cuts: vec![1], codes: vec![] }],
        gamma: vec![],
        n_arms: 2,
        min_node_size: 1,
        blocks: 1,
    };
    let config = RefineConfig {
        row_sample: Some(RowSample { seed: 1, tree: 0, threshold: RowSample::ALL_ROWS, half: Half::All }),
        ..refine_config(&c, vec![RefineGroup { slot: 0, feature: 0, bins: vec![0, 1] }])
    };
    let mut kernel = RefineKernel::new(tree, config).unwrap();
    let e = kernel.add_block(common::u8_block(vec![vec![0, 1]], vec![1, 2, 3, 4], 2)).unwrap_err().to_string();
    assert!(e.contains("2 channels") && e.contains("1 × 3"), "{e}");
}

#[test]
fn refine_configs_refuse_bad_groups() {
    let c = Case {
        features: vec![Feature { fine_codes: 8, cuts: vec![1, 4], codes: vec![] }],
        gamma: vec![],
        n_arms: 2,
        min_node_size: 1,
        blocks: 1,
    };
    let err = |groups: Vec<RefineGroup>| RefineKernel::new(root(2), refine_config(&c, groups)).err().unwrap().to_string();
    let g = |slot, feature, bins: Vec<usize>| RefineGroup { slot, feature, bins };
    assert!(err(vec![g(0, 0, vec![0]), g(0, 0, vec![1])]).contains("two groups for slot 0 and feature 0"));
    assert!(err(vec![g(1, 0, vec![0])]).contains("outside 1 slots"));
    assert!(err(vec![g(0, 0, vec![3])]).contains("below 3"));
    let identity = RefineConfig { coarse_cuts: vec![None], ..refine_config(&c, vec![g(0, 0, vec![0])]) };
    assert!(RefineKernel::new(root(2), identity).err().unwrap().to_string().contains("no coarse grid"));
}

//! What each export does, as typed Rust functions of already-converted values: byte buffers,
//! numbers, handle ids and the handles' objects. `exports.rs` only converts Java values and calls
//! one of these, so every native call can be tested and read without JNI.

use crate::handles::{self, Handle, Model, TaskScorer};
use crate::{ipc, wire};
use sparkpolicy_core::block::BlockBuilder;
use sparkpolicy_core::block_cache::BlockBytes;
use sparkpolicy_core::config::{
    self, BlockConfig, KernelConfig, LeavesConfig, PairConfig, PairSplitConfig, RefineConfig, RefineSplitConfig, ScorerConfig, SplitConfig,
};
use sparkpolicy_core::forest::CompiledForest;
use sparkpolicy_core::histogram::HistogramKernel;
use sparkpolicy_core::histogram_layout::HistogramLayout;
use sparkpolicy_core::leaves;
use sparkpolicy_core::node_table::NodeTable;
use sparkpolicy_core::pair::PairKernel;
use sparkpolicy_core::pair_layout::PairLayout;
use sparkpolicy_core::pair_record::PairRecord;
use sparkpolicy_core::pair_search::{best_subtree as search_subtree, pair_node_totals};
use sparkpolicy_core::refine::{refine_split as refine, RefineKernel};
use sparkpolicy_core::reply::{LeafTable, ScoreColumns};
use sparkpolicy_core::scoring::CompiledModel;
use sparkpolicy_core::split::{best_split_among as search, node_totals, BlockBest};
use sparkpolicy_core::split_record::SplitRecord;
use sparkpolicy_core::{fixed_point, invalid, PolicyError, Result};
use std::sync::{Arc, Mutex};

pub fn reward_shift(n_rows: i64, max_abs: f64) -> Result<i32> {
    if n_rows < 0 {
        return invalid!("row count must be non-negative, got {n_rows}");
    }
    fixed_point::reward_shift(n_rows as u64, max_abs)
}

pub fn block_builder_open(config: &[u8], edges: &[f64]) -> Result<i64> {
    let config: BlockConfig = config::parse(config)?;
    let builder = BlockBuilder::new(&config, edges)?;
    Ok(handles::insert(Handle::BlockBuilder(Mutex::new(Some(builder)))))
}

/// The handle is checked before the stream is read: a closed handle is the error to report.
pub fn block_builder_push(handle: i64, feature_ipc: &[u8]) -> Result<()> {
    handles::with_block_builder(handle, |builder| {
        let builder = builder.as_mut().ok_or_else(|| finished(handle))?;
        ipc::read_batches(feature_ipc)?.iter().try_for_each(|batch| builder.push(batch))
    })
}

pub fn block_builder_finish(handle: i64) -> Result<Vec<u8>> {
    let builder = handles::with_block_builder(handle, |builder| builder.take().ok_or_else(|| finished(handle)))?;
    Ok(builder.finish().encode())
}

fn finished(handle: i64) -> PolicyError {
    PolicyError::InvalidInput(format!("block builder {handle} is already finished"))
}

pub fn kernel_open(tree_ipc: &[u8], config: &[u8]) -> Result<i64> {
    crate::logging::init();
    let tree = node_table(tree_ipc)?;
    let config: KernelConfig = config::parse(config)?;
    Ok(handles::insert(Handle::Kernel(Mutex::new(HistogramKernel::new(tree, config)?))))
}

/// The handle is checked before the bytes are decoded: a closed handle is the error to report.
pub fn kernel_add_block(handle: i64, block: BlockBytes) -> Result<()> {
    handles::with_kernel(handle, |kernel| kernel.add_block(block.block()?))
}

pub fn kernel_emit(handle: i64, chunk: i32) -> Result<Vec<i64>> {
    if chunk < 0 {
        return invalid!("chunk index must be non-negative, got {chunk}");
    }
    handles::with_kernel(handle, |kernel| kernel.emit(chunk as usize))
}

pub fn kernel_peak_bytes(handle: i64) -> Result<i64> {
    handles::with_kernel(handle, |kernel| Ok(kernel.peak_bytes() as i64))
}

/// The split record (`split_record`) of one merged (node, feature block) histogram.
/// `allowed`: one byte per feature of the block (nonzero: searched), or none for every feature.
pub fn best_split(histogram: &[i64], config: &[u8], allowed: &[u8]) -> Result<Vec<i64>> {
    let config: SplitConfig = config::parse(config)?;
    if config.codes_per_feature.is_empty() {
        return invalid!("split config lists no features");
    }
    let allowed: Vec<bool> = allowed.iter().map(|&b| b != 0).collect();
    let result = search(histogram, &config, &allowed)?;
    let totals = node_totals(histogram, &HistogramLayout::new(config.n_arms, &config.codes_per_feature));
    Ok(SplitRecord::new(totals, &result).encode())
}

pub fn pair_kernel_open(tree_ipc: &[u8], config: &[u8]) -> Result<i64> {
    crate::logging::init();
    let tree = node_table(tree_ipc)?;
    let config: PairConfig = config::parse(config)?;
    Ok(handles::insert(Handle::PairKernel(Mutex::new(PairKernel::new(tree, config)?))))
}

/// The handle is checked before the bytes are decoded: a closed handle is the error to report.
pub fn pair_kernel_add_block(handle: i64, block: BlockBytes) -> Result<()> {
    handles::with_pair_kernel(handle, |kernel| kernel.add_block(block.block()?))
}

pub fn pair_kernel_emit(handle: i64, chunk: i32) -> Result<Vec<i64>> {
    if chunk < 0 {
        return invalid!("chunk index must be non-negative, got {chunk}");
    }
    handles::with_pair_kernel(handle, |kernel| kernel.emit(chunk as usize))
}

pub fn pair_kernel_peak_bytes(handle: i64) -> Result<i64> {
    handles::with_pair_kernel(handle, |kernel| Ok(kernel.peak_bytes() as i64))
}

/// The pair record (`pair_record`) of one merged (node, root feature block) pair histogram.
pub fn best_subtree(histogram: &[i64], config: &[u8]) -> Result<Vec<i64>> {
    let config: PairSplitConfig = config::parse(config)?;
    let result = search_subtree(histogram, &config)?;
    let layout = PairLayout::new(config.n_arms, &config.codes_per_feature, config.feature_start, config.feature_end);
    Ok(PairRecord::new(pair_node_totals(histogram, &layout), &result).encode())
}

pub fn refine_kernel_open(tree_ipc: &[u8], config: &[u8]) -> Result<i64> {
    crate::logging::init();
    let tree = node_table(tree_ipc)?;
    let config: RefineConfig = config::parse(config)?;
    Ok(handles::insert(Handle::Refine(Mutex::new(RefineKernel::new(tree, config)?))))
}

pub fn refine_kernel_add_block(handle: i64, block: BlockBytes) -> Result<()> {
    handles::with_refine_kernel(handle, |kernel| kernel.add_block(block.block()?))
}

pub fn refine_kernel_emit(handle: i64, chunk: i32) -> Result<Vec<i64>> {
    if chunk < 0 {
        return invalid!("chunk index must be non-negative, got {chunk}");
    }
    handles::with_refine_kernel(handle, |kernel| kernel.emit(chunk as usize))
}

/// The split record of one merged group histogram (`refine::refine_split`): its totals are the group's
/// (the node's rows), its best the group's first best threshold, absent only when no candidate keeps
/// `min_node_size` rows on each side.
pub fn refine_split(histogram: &[i64], config: &[u8]) -> Result<Vec<i64>> {
    let config: RefineSplitConfig = config::parse(config)?;
    let best = refine(histogram, &config)?;
    let mut totals = vec![0i64; config.n_arms + 1];
    histogram.chunks_exact(config.n_arms + 1).for_each(|c| totals.iter_mut().zip(c).for_each(|(t, v)| *t += v));
    Ok(SplitRecord::new(totals, &BlockBest { best, runner_up: None, refine: Vec::new(), left_out: None }).encode())
}

/// An outcome-tree node's own score from its totals `[S_0..S_{A−1}, n_0..n_{A−1}, ..]`: the value the
/// driver's acceptance rule compares a split's reward with, from the split search's own function.
pub fn outcome_score(totals: &[i64], arms: i32) -> Result<f64> {
    if arms < 1 || totals.len() < 2 * arms as usize {
        return invalid!("{} totals cannot hold {arms} arms' sums and counts", totals.len());
    }
    Ok(sparkpolicy_core::outcome::outcome_score(totals, arms as usize))
}

/// Each row's leaf (`leaves`) of one training block in a finished tree.
pub fn block_leaves(tree_ipc: &[u8], config: &[u8], block: BlockBytes) -> Result<Vec<i32>> {
    let tree = node_table(tree_ipc)?;
    let config: LeavesConfig = config::parse(config)?;
    leaves::block_leaves(&tree, &config.codes_per_feature, &*block.block()?)
}

/// The executor's block cache budget in bytes (`block_cache`); 0 turns it off. Returns the bytes it holds.
pub fn block_cache_budget(bytes: i64) -> Result<i64> {
    let mut cache = sparkpolicy_core::block_cache::global();
    cache.set_budget(usize::try_from(bytes.max(0)).unwrap_or(usize::MAX));
    Ok(cache.bytes() as i64)
}

/// Compiles a tree (one node-table batch) or, with `forest` in the config, a forest (one batch per tree).
pub fn model_compile(model_ipc: &[u8], config: &[u8]) -> Result<i64> {
    let config: ScorerConfig = config::parse(config)?;
    let model = if config.forest {
        let tables = ipc::read_batches(model_ipc)?.iter().map(NodeTable::from_record_batch).collect::<Result<Vec<_>>>()?;
        Model::Forest(Arc::new(CompiledForest::compile(&tables, config.n_features, config.n_arms)?))
    } else {
        Model::Tree(Arc::new(CompiledModel::compile(&node_table(model_ipc)?, config.n_features, config.n_arms)?))
    };
    Ok(handles::insert(Handle::Model(model)))
}

pub fn scorer_open(model: Model) -> Result<i64> {
    Ok(handles::insert(Handle::Scorer(TaskScorer { model })))
}

/// The score columns (`reply::ScoreColumns`) of a feature stream's batches, in order; a forest's leaves only
/// when `with_leaves`.
pub fn score_columns(model: &Model, feature_ipc: &[u8], with_leaves: bool) -> Result<ScoreColumns> {
    let batches = ipc::read_batches(feature_ipc)?;
    if batches.is_empty() {
        return invalid!("scoring stream has no record batch");
    }
    let parts = batches
        .iter()
        .map(|b| match model {
            Model::Tree(tree) => Ok(tree.score_batch(b)?.into()),
            Model::Forest(forest) => Ok(forest.score_batch_with(b, with_leaves)?.into()),
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(ScoreColumns::concat(parts))
}

/// The model's leaf table (`reply`), read once per task: rows carry only their leaf. A forest's rows
/// carry their scores, so it has none.
pub fn scorer_leaf_table(model: &Model) -> Result<Vec<u8>> {
    match model {
        Model::Tree(tree) => ipc::write_batches(&[LeafTable::of_model(tree).to_record_batch()?]),
        Model::Forest(_) => invalid!("a forest scorer has no leaf table: its replies carry each row's scores"),
    }
}

pub fn close(handle: i64) {
    handles::close(handle)
}

pub fn live_handles() -> i32 {
    handles::live() as i32
}

pub fn wire_round_trip(format: &str, payload: &[u8]) -> Result<Vec<u8>> {
    wire::round_trip(format, payload)
}

/// Exercises the guard from Java tests: mode 1 panics, mode 2 raises an internal error,
/// mode 3 an invalid-input error; anything else returns normally.
pub fn self_test(mode: i32) -> Result<i32> {
    match mode {
        1 => panic!("self-test panic requested"),
        2 => Err(PolicyError::Internal("self-test internal error requested".into())),
        3 => invalid!("self-test invalid input requested"),
        _ => Ok(mode),
    }
}

fn node_table(ipc_bytes: &[u8]) -> Result<NodeTable> {
    NodeTable::from_record_batch(&ipc::read_single(ipc_bytes)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcome_score_is_the_split_searchs_function_and_refuses_short_totals() {
        // Two arms: sums 6 and −4 over 3 and 2 rows, then the fold channel and the count.
        let totals = [6, -4, 3, 2, 9, 5];
        assert_eq!(outcome_score(&totals, 2).unwrap(), 6.0 * 6.0 / 3.0 + 16.0 / 2.0);
        assert_eq!(outcome_score(&totals, 2).unwrap(), sparkpolicy_core::outcome::outcome_score(&totals, 2));
        let err = outcome_score(&totals[..3], 2).unwrap_err().to_string();
        assert!(err.contains("3 totals") && err.contains("2 arms"), "{err}");
        assert!(outcome_score(&totals, 0).is_err());
    }

    #[test]
    fn pair_kernel_and_best_subtree_through_the_calls() {
        use sparkpolicy_core::block::{Codes, TrainingBlock};
        use sparkpolicy_core::node_table::TreeNode;
        let root = TreeNode {
            id: 1,
            is_leaf: true,
            feature: -1,
            threshold: 0.0,
            threshold_bin: -1,
            missing_left: false,
            categorical: false,
            arm: 0,
            count: 0,
            values: vec![0.0, 0.0],
        };
        let tree = NodeTable { n_arms: 2, nodes: vec![root] };
        let tree_ipc = ipc::write_batches(&[tree.to_record_batch().unwrap()]).unwrap();
        // x0 in codes 0..2 (3 = missing), x1 in 0..1 (2 = missing); arm 1 pays iff x0 ≤ 0 xor x1 ≤ 0.
        let (x0, x1): (Vec<u8>, Vec<u8>) = [(0, 0), (0, 1), (1, 0), (1, 1), (2, 0), (2, 1)].into_iter().unzip();
        let gamma = x0.iter().zip(&x1).flat_map(|(&a, &b)| if (a == 0) != (b == 0) { [0, 4] } else { [4, 0] }).collect();
        let block = TrainingBlock { n_rows: 6, n_features: 2, n_arms: 2, shift: 0, codes: Codes::U8([x0, x1].concat()), gamma, id: 0 };
        let config = br#"{"n_arms":2,"codes_per_feature":[4,3],"frontier":[1],"chunks":[{"slot_start":0,"slot_end":1,"feature_start":0,"feature_end":2}]}"#;
        let handle = pair_kernel_open(&tree_ipc, config).unwrap();
        pair_kernel_add_block(handle, BlockBytes::Raw(block.encode())).unwrap();
        let hist = pair_kernel_emit(handle, 0).unwrap();
        assert!(pair_kernel_peak_bytes(handle).unwrap() >= hist.len() as i64 * 8);
        assert!(pair_kernel_emit(handle, -1).is_err() && pair_kernel_emit(handle, 1).is_err());
        close(handle);
        assert!(pair_kernel_emit(handle, 0).unwrap_err().to_string().contains("closed"));
        let split = br#"{"n_arms":2,"min_node_size":1,"feature_start":0,"feature_end":2,"codes_per_feature":[4,3]}"#;
        let record = PairRecord::decode(&best_subtree(&hist, split).unwrap()).unwrap();
        assert_eq!(record.split.totals, vec![12, 12, 6]);
        let best = record.split.best.unwrap();
        assert_eq!((best.feature, best.threshold_bin, best.reward), (0, 0, 24));
        assert_eq!(record.left_child.map(|c| (c.feature, c.threshold_bin)), Some((1, 0)));
        assert!(best_subtree(&hist[1..], split).unwrap_err().to_string().contains("cells"));
    }
}

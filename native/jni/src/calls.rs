//! What each export does, as typed Rust functions of already-converted values: byte buffers,
//! numbers, handle ids and the handles' objects. `exports.rs` only converts Java values and calls
//! one of these, so every native call can be tested and read without JNI.

use crate::handles::{self, Handle, TaskScorer};
use crate::{ipc, wire};
use sparkpolicy_core::block::{BlockBuilder, TrainingBlock};
use sparkpolicy_core::config::{self, BlockConfig, KernelConfig, LeavesConfig, ScorerConfig, SplitConfig};
use sparkpolicy_core::histogram::HistogramKernel;
use sparkpolicy_core::histogram_layout::HistogramLayout;
use sparkpolicy_core::leaves;
use sparkpolicy_core::node_table::NodeTable;
use sparkpolicy_core::reply::LeafTable;
use sparkpolicy_core::scoring::CompiledModel;
use sparkpolicy_core::split::{best_split as search, node_totals};
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
pub fn kernel_add_block(handle: i64, block: &[u8]) -> Result<()> {
    handles::with_kernel(handle, |kernel| kernel.add_block(TrainingBlock::decode(block)?))
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
pub fn best_split(histogram: &[i64], config: &[u8]) -> Result<Vec<i64>> {
    let config: SplitConfig = config::parse(config)?;
    if config.codes_per_feature.is_empty() {
        return invalid!("split config lists no features");
    }
    let result = search(histogram, &config)?;
    let totals = node_totals(histogram, &HistogramLayout::new(config.n_arms, &config.codes_per_feature));
    Ok(SplitRecord::new(totals, &result).encode())
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
pub fn block_leaves(tree_ipc: &[u8], config: &[u8], block: &[u8]) -> Result<Vec<i32>> {
    let tree = node_table(tree_ipc)?;
    let config: LeavesConfig = config::parse(config)?;
    leaves::block_leaves(&tree, &config.codes_per_feature, &TrainingBlock::decode(block)?)
}

pub fn model_compile(tree_ipc: &[u8], config: &[u8]) -> Result<i64> {
    let tree = node_table(tree_ipc)?;
    let config: ScorerConfig = config::parse(config)?;
    let model = CompiledModel::compile(&tree, config.n_features, config.n_arms)?;
    Ok(handles::insert(Handle::Model(Arc::new(model))))
}

pub fn scorer_open(model: Arc<CompiledModel>) -> Result<i64> {
    Ok(handles::insert(Handle::Scorer(TaskScorer { model })))
}

/// The score reply (`reply`) of a feature stream: one batch out per batch in.
pub fn score_batch(model: &CompiledModel, feature_ipc: &[u8]) -> Result<Vec<u8>> {
    let batches = ipc::read_batches(feature_ipc)?;
    let outputs = batches.iter().map(|b| model.score_batch(b)?.to_record_batch()).collect::<Result<Vec<_>>>()?;
    if outputs.is_empty() {
        return invalid!("scoring stream has no record batch");
    }
    ipc::write_batches(&outputs)
}

/// The model's leaf table (`reply`), read once per task: rows carry only their leaf.
pub fn scorer_leaf_table(model: &CompiledModel) -> Result<Vec<u8>> {
    ipc::write_batches(&[LeafTable::of_model(model).to_record_batch()?])
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
}

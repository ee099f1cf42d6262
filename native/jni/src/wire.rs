//! `wireRoundTrip`: decodes a payload with the Rust module that owns its format and encodes it
//! again with the same module, so JVM tests can check both sides agree on every byte format.
//! Arrow formats travel as IPC streams (framed by `ipc`); the rest as their own bytes.

use crate::ipc;
use arrow_array::RecordBatch;
use serde::{Deserialize, Serialize};
use sparkpolicy_core::block::TrainingBlock;
use sparkpolicy_core::config::{
    self, BlockConfig, KernelConfig, LeavesConfig, PairConfig, PairSplitConfig, RefineConfig, RefineSplitConfig, ScorerConfig, SplitConfig,
};
use sparkpolicy_core::feature_batch::FeatureBatch;
use sparkpolicy_core::node_table::NodeTable;
use sparkpolicy_core::pair_record::PairRecord;
use sparkpolicy_core::reply::LeafTable;
use sparkpolicy_core::split_record::SplitRecord;
use sparkpolicy_core::{invalid, Result};

/// Every format `round_trip` knows, in the order its error lists them.
pub const FORMATS: [&str; 16] = [
    "node_table",
    "forest_tables",
    "feature_batch",
    "leaf_table",
    "split_record",
    "pair_record",
    "block_config",
    "kernel_config",
    "refine_config",
    "refine_split_config",
    "split_config",
    "pair_config",
    "pair_split_config",
    "scorer_config",
    "leaves_config",
    "training_block",
];

pub fn round_trip(format: &str, payload: &[u8]) -> Result<Vec<u8>> {
    match format {
        "node_table" => ipc::write_batches(&[NodeTable::from_record_batch(&ipc::read_single(payload)?)?.to_record_batch()?]),
        "forest_tables" => stream(format, payload, |b| NodeTable::from_record_batch(b)?.to_record_batch()),
        "feature_batch" => stream(format, payload, |b| FeatureBatch::from_record_batch(b)?.to_record_batch()),
        "leaf_table" => ipc::write_batches(&[LeafTable::from_record_batch(&ipc::read_single(payload)?)?.to_record_batch()?]),
        "split_record" => Ok(SplitRecord::from_le_bytes(payload)?.to_le_bytes()),
        "pair_record" => Ok(PairRecord::from_le_bytes(payload)?.to_le_bytes()),
        "block_config" => json::<BlockConfig>(payload),
        "kernel_config" => json::<KernelConfig>(payload),
        "refine_config" => json::<RefineConfig>(payload),
        "refine_split_config" => json::<RefineSplitConfig>(payload),
        "split_config" => json::<SplitConfig>(payload),
        "pair_config" => json::<PairConfig>(payload),
        "pair_split_config" => json::<PairSplitConfig>(payload),
        "scorer_config" => json::<ScorerConfig>(payload),
        "leaves_config" => json::<LeavesConfig>(payload),
        "training_block" => Ok(TrainingBlock::decode(payload)?.encode()),
        _ => invalid!("unknown wire format '{format}'; known formats: {}", FORMATS.join(", ")),
    }
}

/// A stream of one or more batches, each decoded and encoded again.
fn stream(format: &str, payload: &[u8], each: impl Fn(&RecordBatch) -> Result<RecordBatch>) -> Result<Vec<u8>> {
    let batches = ipc::read_batches(payload)?.iter().map(each).collect::<Result<Vec<_>>>()?;
    if batches.is_empty() {
        return invalid!("{format} stream has no record batch");
    }
    ipc::write_batches(&batches)
}

fn json<T: for<'a> Deserialize<'a> + Serialize>(payload: &[u8]) -> Result<Vec<u8>> {
    config::to_json(&config::parse::<T>(payload)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::{ArrayRef, Float64Array};
    use sparkpolicy_core::block::Codes;
    use sparkpolicy_core::node_table::TreeNode;
    use sparkpolicy_core::pair_search::SubtreeBest;
    use sparkpolicy_core::scoring::CompiledModel;
    use sparkpolicy_core::split::{BlockBest, SplitCandidate};
    use sparkpolicy_core::PolicyError;
    use std::sync::Arc;

    fn node(id: u32, is_leaf: bool, arm: i32) -> TreeNode {
        let feature = if is_leaf { -1 } else { 0 };
        TreeNode {
            id,
            is_leaf,
            feature,
            threshold: 0.5,
            threshold_bin: 0,
            missing_left: true,
            categorical: false,
            arm,
            count: 3,
            values: vec![0.25, -1.0],
        }
    }

    fn tree() -> NodeTable {
        NodeTable { n_arms: 2, nodes: vec![node(1, false, -1), node(2, true, 0), node(3, true, 1)] }
    }

    /// The round trip gives the payload's own bytes back (for payloads in the canonical form).
    fn same(format: &str, payload: &[u8]) {
        assert_eq!(round_trip(format, payload).unwrap(), payload, "{format}");
    }

    #[test]
    fn arrow_formats_round_trip() {
        same("node_table", &ipc::write_batches(&[tree().to_record_batch().unwrap()]).unwrap());
        let x: ArrayRef = Arc::new(Float64Array::from(vec![Some(0.1), None, Some(f64::NAN)]));
        let features = FeatureBatch::from_record_batch(&RecordBatch::try_from_iter([("x", x.clone()), ("y", x)]).unwrap()).unwrap();
        let two = [features.to_record_batch().unwrap(), features.to_record_batch().unwrap().slice(1, 2)];
        same("feature_batch", &ipc::write_batches(&two).unwrap());
        let model = CompiledModel::compile(&tree(), 1, 2).unwrap();
        same("leaf_table", &ipc::write_batches(&[LeafTable::of_model(&model).to_record_batch().unwrap()]).unwrap());
        let forest = [tree().to_record_batch().unwrap(), tree().to_record_batch().unwrap().slice(0, 1)];
        same("forest_tables", &ipc::write_batches(&forest[..1]).unwrap());
        assert!(round_trip("forest_tables", &ipc::write_batches(&forest).unwrap()).unwrap_err().to_string().contains("missing its child"));
    }

    #[test]
    fn byte_formats_round_trip() {
        let c =
            SplitCandidate { feature: 1, threshold_bin: 2, missing_left: false, reward: -(1 << 70), left: vec![1, 1], right: vec![2, 1] };
        same(
            "split_record",
            &SplitRecord::new(vec![3, 2], &BlockBest { best: Some(c), runner_up: None, refine: vec![], left_out: None }).to_le_bytes(),
        );
        let block = TrainingBlock {
            n_rows: 2,
            n_features: 1,
            n_arms: 2,
            shift: 3,
            codes: Codes::U8(vec![0, 1]),
            gamma: vec![5, -5, 6, -6],
            id: 42,
        };
        same("training_block", &block.encode());
        same("scorer_config", br#"{"n_features":3,"n_arms":2,"forest":true}"#);
        same("leaves_config", br#"{"codes_per_feature":[3,4]}"#);
        same("block_config", br#"{"n_arms":2,"edge_counts":[1],"shift":4,"unscaled_from":null}"#);
        let split = br#"{"n_arms":2,"min_node_size":1,"feature_start":0,"codes_per_feature":[3]}"#;
        let out = round_trip("split_config", split).unwrap();
        assert_eq!(config::parse::<SplitConfig>(&out).unwrap(), config::parse::<SplitConfig>(split).unwrap());
        let pair = br#"{"n_arms":2,"codes_per_feature":[5],"coarse_cuts":[[1]],"frontier":[1],"chunks":[],"threads":2}"#;
        let out = round_trip("pair_config", pair).unwrap();
        assert_eq!(config::parse::<PairConfig>(&out).unwrap(), config::parse::<PairConfig>(pair).unwrap());
        let pair_split = br#"{"n_arms":2,"min_node_size":1,"feature_start":0,"feature_end":1,"codes_per_feature":[3]}"#;
        let out = round_trip("pair_split_config", pair_split).unwrap();
        assert_eq!(config::parse::<PairSplitConfig>(&out).unwrap(), config::parse::<PairSplitConfig>(pair_split).unwrap());
        let root = SplitCandidate { feature: 0, threshold_bin: 1, missing_left: true, reward: 9, left: vec![1, 1], right: vec![2, 1] };
        let subtree = SubtreeBest { best: Some(root.clone()), left_child: Some(root), ..Default::default() };
        same("pair_record", &PairRecord::new(vec![3, 2], &subtree).to_le_bytes());
        let refine = br#"{"n_arms":2,"codes_per_feature":[5],"coarse_cuts":[[1]],"frontier":[1],"groups":[{"slot":0,"feature":0,"bins":[0,1]}],"chunks":[{"start":0,"end":1}],"row_sample":{"seed":3,"tree":1,"threshold":4294967296,"half":"estimation"}}"#;
        let out = round_trip("refine_config", refine).unwrap();
        assert_eq!(config::parse::<RefineConfig>(&out).unwrap(), config::parse::<RefineConfig>(refine).unwrap());
        assert!(config::parse::<RefineConfig>(&out).unwrap().row_sample.is_some());
        let refine_split = br#"{"n_arms":2,"min_node_size":1,"feature":0,"fine_codes":5,"cuts":[1],"bins":[1]}"#;
        let out = round_trip("refine_split_config", refine_split).unwrap();
        assert_eq!(config::parse::<RefineSplitConfig>(&out).unwrap(), config::parse::<RefineSplitConfig>(refine_split).unwrap());
        let kernel =
            br#"{"n_arms":2,"codes_per_feature":[3],"frontier":[1],"chunks":[],"skip_rows":{"channel":1,"value":0},"bounds":true}"#;
        let out = round_trip("kernel_config", kernel).unwrap();
        assert_eq!(config::parse::<KernelConfig>(&out).unwrap(), config::parse::<KernelConfig>(kernel).unwrap());
    }

    #[test]
    fn bad_payloads_and_unknown_formats_are_invalid_input() {
        let invalid = |format: &str, payload: &[u8]| match round_trip(format, payload) {
            Err(PolicyError::InvalidInput(m)) => m,
            other => panic!("{format}: expected invalid input, got {other:?}"),
        };
        let m = invalid("parquet", b"");
        assert!(m.contains("unknown wire format 'parquet'") && m.contains(&FORMATS.join(", ")), "{m}");
        for format in FORMATS {
            invalid(format, b"\x01\x02\x03");
        }
        let no_scores = RecordBatch::try_from_iter([("leaf", Arc::new(arrow_array::Int32Array::from(vec![2])) as ArrayRef)]).unwrap();
        assert!(invalid("leaf_table", &ipc::write_batches(&[no_scores]).unwrap()).contains("no column 'scores'"));
        assert!(invalid("split_config", br#"{"n_arms":2}"#).contains("missing field"));
    }
}

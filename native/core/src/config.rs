//! The small JSON config blobs that accompany each native call: `BlockConfig` (blockBuilderOpen),
//! `KernelConfig` (kernelOpen), `RefineConfig` (refineKernelOpen), `SplitConfig` (bestSplit), `PairConfig`
//! (pairKernelOpen), `PairSplitConfig` (bestSubtree), `ScorerConfig` (modelCompile), `LeavesConfig`
//! (blockLeaves). Field names
//! are the wire format shared with `jvm/.../bridge/NativeConfig.scala` (Jackson, snake_case); bump `ABI_VERSION` when they
//! change. Fields with a serde default may be left out; `to_json` writes every field (`null` for
//! `None`), so parsing its output gives the same config.

use crate::row_sample::RowSample;
use serde::{Deserialize, Serialize};

/// Turns one partition's rows into a training block.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct BlockConfig {
    pub n_arms: usize,
    /// Number of edges per feature; the edges themselves travel as one flat f64 buffer.
    pub edge_counts: Vec<usize>,
    /// Fixed-point shift from `fixed_point::reward_shift`.
    pub shift: i32,
    /// Channels from this index on are integers stored as they are (rounded), not quantized:
    /// the per-arm row counts and the fold id of an outcome-tree block. `None`: every channel is Γ.
    #[serde(default)]
    pub unscaled_from: Option<usize>,
}

/// One histogram pass of one tree level over one partition.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct KernelConfig {
    pub n_arms: usize,
    /// Codes per feature (value bins + missing), in contract order.
    pub codes_per_feature: Vec<usize>,
    /// Heap ids of the frontier nodes, in frontier-slot order.
    pub frontier: Vec<u32>,
    /// Memory-bounded work units: each emits histograms for a slot range × feature range.
    pub chunks: Vec<Chunk>,
    /// Native threads per task (Spark's `spark.task.cpus` or a Param); each owns whole features,
    /// so the histograms do not depend on it.
    #[serde(default = "one")]
    pub threads: usize,
    /// Prefix of this kernel's log lines, e.g. "stage 12 partition 3 level 2".
    #[serde(default)]
    pub tag: String,
    /// Rows whose channel equals a value feed no histogram: cross-fitting leaves a fold's own rows
    /// out of the outcome tree that will predict them.
    #[serde(default)]
    pub skip_rows: Option<SkipRows>,
    /// Per feature, the fine edge indices of its coarse edges (`coarse::CoarseMap`): histograms hold
    /// coarse codes. Empty: every feature's histogram holds its block codes; `None`: that feature's do.
    #[serde(default)]
    pub coarse_cuts: Vec<Option<Vec<u32>>>,
    /// A forest tree's rows (`row_sample`): the blocks then carry one more channel than `n_arms`, the
    /// row's hash, and only the rows the sample takes feed the histograms.
    #[serde(default)]
    pub row_sample: Option<RowSample>,
    /// Exact-threshold search: each coarse feature's histogram also holds its value bins' positive-part
    /// sums (`histogram_layout`), which bound the fine thresholds inside each bin.
    #[serde(default)]
    pub bounds: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
pub struct SkipRows {
    pub channel: usize,
    pub value: i64,
}

fn one() -> usize {
    1
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
pub struct Chunk {
    pub slot_start: usize,
    pub slot_end: usize,
    pub feature_start: usize,
    pub feature_end: usize,
}

/// Split search over one merged (node, feature block) histogram.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct SplitConfig {
    pub n_arms: usize,
    pub min_node_size: u64,
    /// Contract index of the block's first feature.
    pub feature_start: usize,
    /// Codes per feature of the block.
    pub codes_per_feature: Vec<usize>,
    /// What a split maximizes: the policy reward (default) or an outcome tree's fit.
    #[serde(default)]
    pub criterion: Criterion,
    /// Arms of an outcome tree: its channels are [ΣY·1{W=a}] then [Σ1{W=a}] per arm (see `outcome`).
    #[serde(default)]
    pub outcome_arms: usize,
    /// Per feature of the block: split one category code vs the rest instead of by threshold.
    /// Empty (older callers): every feature is numeric.
    #[serde(default)]
    pub categorical: Vec<bool>,
    /// Block (fine) codes per feature of the block when the histogram holds coarse codes, with each
    /// feature's cuts (as in `KernelConfig::coarse_cuts`): thresholds come back as fine codes, with
    /// the coarse bins to refine. Empty: the histogram's codes are the block's.
    #[serde(default)]
    pub fine_codes: Vec<usize>,
    #[serde(default)]
    pub coarse_cuts: Vec<Option<Vec<u32>>>,
    /// The histogram has the coarse features' bound sections (`KernelConfig::bounds`): the record then
    /// lists the coarse bins whose fine thresholds could reach the block's best (`split::refine_bins`).
    #[serde(default)]
    pub bounds: bool,
    /// With bounds: the bins listed per record at most besides the best's own two (`refineBins`; 0: all),
    /// the rest by bound; the largest bound left out travels with them.
    #[serde(default)]
    pub refine_limit: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Criterion {
    /// policytree's: best-arm Γ sum left plus best-arm Γ sum right.
    #[default]
    Policy,
    /// Multi-output regression: Σ_a (S_aL²/n_aL + S_aR²/n_aR), in f64 from the exact integer sums.
    Outcome,
}

/// The refinement pass of one level over one partition (`refine`): per frontier node, the coarse bins
/// of each feature whose fine thresholds could beat the node's coarse best (`split::refine_bins`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct RefineConfig {
    pub n_arms: usize,
    /// Block (fine) codes per feature, in contract order.
    pub codes_per_feature: Vec<usize>,
    /// Per feature the fine edge indices of its coarse edges (as `KernelConfig::coarse_cuts`).
    pub coarse_cuts: Vec<Option<Vec<u32>>>,
    pub frontier: Vec<u32>,
    /// At most one group per (frontier slot, feature).
    pub groups: Vec<RefineGroup>,
    /// Memory-bounded runs of consecutive groups; each is one `emit`.
    pub chunks: Vec<GroupRange>,
    #[serde(default)]
    pub tag: String,
    #[serde(default)]
    pub skip_rows: Option<SkipRows>,
    /// A forest tree's rows, as in `KernelConfig::row_sample`: the blocks carry the row hash as one more
    /// channel than `n_arms`, and only the rows the sample takes feed the group histograms.
    #[serde(default)]
    pub row_sample: Option<RowSample>,
}

/// One frontier slot's feature to refine: its coarse value bins `bins` (ascending) are histogrammed on
/// their fine codes, its other bins as they are (`refine::GroupGrid`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct RefineGroup {
    pub slot: usize,
    pub feature: usize,
    pub bins: Vec<usize>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
pub struct GroupRange {
    pub start: usize,
    pub end: usize,
}

/// The split search over one merged group histogram (`refine::refine_split`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct RefineSplitConfig {
    pub n_arms: usize,
    pub min_node_size: u64,
    pub feature: usize,
    /// The feature's block (fine) codes and coarse cuts, and the bins refined.
    pub fine_codes: usize,
    pub cuts: Vec<u32>,
    pub bins: Vec<usize>,
}

/// One partition's two-level histogram pass of one tree level (`pair`): per frontier slot and root
/// feature r of a chunk, the 2-D histograms of (r's code, g's code) for every feature g.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct PairConfig {
    pub n_arms: usize,
    /// Block (fine) codes per feature, in contract order.
    pub codes_per_feature: Vec<usize>,
    /// As in `KernelConfig::coarse_cuts`: the histograms hold coarse codes on both axes.
    #[serde(default)]
    pub coarse_cuts: Vec<Option<Vec<u32>>>,
    pub frontier: Vec<u32>,
    /// Memory-bounded work units: frontier slots × *root* features (every chunk covers all F features g).
    pub chunks: Vec<Chunk>,
    /// Native threads per task; each owns whole root features, so the histograms do not depend on it.
    #[serde(default = "one")]
    pub threads: usize,
    #[serde(default)]
    pub tag: String,
    #[serde(default)]
    pub skip_rows: Option<SkipRows>,
}

/// The two-level split search over one merged (node, root feature block) pair histogram (`pair_search`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct PairSplitConfig {
    pub n_arms: usize,
    pub min_node_size: u64,
    /// Contract indices of the block's root features: `feature_start..feature_end`.
    pub feature_start: usize,
    pub feature_end: usize,
    /// Histogram (coarse) codes of every feature, in contract order (the children split on any feature).
    pub codes_per_feature: Vec<usize>,
    /// Per feature (all of them): one category code vs the rest. Empty: every feature is numeric.
    #[serde(default)]
    pub categorical: Vec<bool>,
    /// Block (fine) codes and coarse cuts of every feature, as in `SplitConfig`: thresholds come back
    /// as fine codes. Empty: the histogram's codes are the block's.
    #[serde(default)]
    pub fine_codes: Vec<usize>,
    #[serde(default)]
    pub coarse_cuts: Vec<Option<Vec<u32>>>,
}

/// Compiling a node table for scoring.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct ScorerConfig {
    pub n_features: usize,
    pub n_arms: usize,
    /// The model stream holds a forest: one node table per tree, in tree order (`forest`).
    #[serde(default)]
    pub forest: bool,
}

/// Reading each row's leaf from a training block (`leaves`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct LeavesConfig {
    /// Codes per feature (value bins + missing), in contract order, as the blocks were built with.
    pub codes_per_feature: Vec<usize>,
}

pub fn parse<'a, T: Deserialize<'a>>(bytes: &'a [u8]) -> crate::Result<T> {
    Ok(serde_json::from_slice(bytes)?)
}

pub fn to_json<T: Serialize>(config: &T) -> crate::Result<Vec<u8>> {
    serde_json::to_vec(config).map_err(|e| crate::PolicyError::Internal(format!("config JSON write failed: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip<T: for<'a> Deserialize<'a> + Serialize + PartialEq + std::fmt::Debug>(json: &str) -> T {
        let config: T = parse(json.as_bytes()).unwrap();
        assert_eq!(parse::<T>(&to_json(&config).unwrap()).unwrap(), config, "{json}");
        config
    }

    #[test]
    fn every_config_round_trips_with_and_without_defaults() {
        let b: BlockConfig = round_trip(r#"{"n_arms":2,"edge_counts":[1,0],"shift":-3}"#);
        assert_eq!(b.unscaled_from, None);
        round_trip::<BlockConfig>(r#"{"n_arms":5,"edge_counts":[],"shift":40,"unscaled_from":2}"#);
        let chunks = r#""chunks":[{"slot_start":0,"slot_end":1,"feature_start":0,"feature_end":2}]"#;
        let k: KernelConfig = round_trip(&format!(r#"{{"n_arms":2,"codes_per_feature":[3,4],"frontier":[1],{chunks}}}"#));
        assert_eq!((k.threads, k.tag.as_str(), k.skip_rows), (1, "", None));
        let full = format!(
            r#"{{"n_arms":5,"codes_per_feature":[3],"frontier":[2,3],{chunks},"threads":4,"tag":"stage 1","skip_rows":{{"channel":4,"value":-1}}}}"#
        );
        assert_eq!(round_trip::<KernelConfig>(&full).skip_rows, Some(SkipRows { channel: 4, value: -1 }));
        let s: SplitConfig = round_trip(r#"{"n_arms":2,"min_node_size":1,"feature_start":0,"codes_per_feature":[3]}"#);
        assert_eq!((s.criterion, s.outcome_arms, s.categorical.len()), (Criterion::Policy, 0, 0));
        let outcome = r#"{"n_arms":5,"min_node_size":3,"feature_start":2,"codes_per_feature":[3,5],"criterion":"outcome","outcome_arms":2,"categorical":[true,false]}"#;
        assert_eq!(round_trip::<SplitConfig>(outcome).criterion, Criterion::Outcome);
        assert!(!round_trip::<ScorerConfig>(r#"{"n_features":3,"n_arms":2}"#).forest);
        assert!(round_trip::<ScorerConfig>(r#"{"n_features":3,"n_arms":2,"forest":true}"#).forest);
        let p: PairConfig = round_trip(&format!(r#"{{"n_arms":2,"codes_per_feature":[3,4],"frontier":[1],{chunks}}}"#));
        assert_eq!((p.threads, p.coarse_cuts.len(), p.skip_rows), (1, 0, None));
        round_trip::<PairConfig>(&format!(
            r#"{{"n_arms":3,"codes_per_feature":[9,4],"coarse_cuts":[[1,4],null],"frontier":[2,3],{chunks},"threads":2,"tag":"t","skip_rows":{{"channel":0,"value":1}}}}"#
        ));
        let ps: PairSplitConfig =
            round_trip(r#"{"n_arms":2,"min_node_size":1,"feature_start":0,"feature_end":1,"codes_per_feature":[3,4]}"#);
        assert!(ps.categorical.is_empty() && ps.fine_codes.is_empty());
        round_trip::<PairSplitConfig>(
            r#"{"n_arms":2,"min_node_size":5,"feature_start":1,"feature_end":2,"codes_per_feature":[4,4],"categorical":[false,true],"fine_codes":[9,4],"coarse_cuts":[[1,4],null]}"#,
        );
        let windows = r#""coarse_cuts":[[2,5]],"groups":[{"slot":0,"feature":0,"bins":[0,2]}],"chunks":[{"start":0,"end":1}]"#;
        let r: RefineConfig = round_trip(&format!(r#"{{"n_arms":2,"codes_per_feature":[9],"frontier":[1],{windows}}}"#));
        assert_eq!((r.tag.as_str(), r.skip_rows, r.row_sample), ("", None, None));
        let sampled = format!(
            r#"{{"n_arms":2,"codes_per_feature":[9],"frontier":[1],{windows},"tag":"t","row_sample":{{"seed":-5,"tree":7,"threshold":2147483648,"half":"structure"}}}}"#
        );
        let sample = round_trip::<RefineConfig>(&sampled).row_sample.unwrap();
        assert_eq!((sample.seed, sample.tree, sample.threshold, sample.half), (-5, 7, 1 << 31, crate::row_sample::Half::Structure));
        let rs: RefineSplitConfig = round_trip(r#"{"n_arms":3,"min_node_size":2,"feature":4,"fine_codes":9,"cuts":[2,5],"bins":[1]}"#);
        assert_eq!((rs.feature, rs.bins.as_slice()), (4, &[1usize][..]));
        let bounded: KernelConfig =
            round_trip(&format!(r#"{{"n_arms":2,"codes_per_feature":[3,4],"frontier":[1],{chunks},"bounds":true}}"#));
        assert!(bounded.bounds && !k.bounds);
        assert_eq!(round_trip::<LeavesConfig>(r#"{"codes_per_feature":[3,66]}"#).codes_per_feature, vec![3, 66]);
        assert!(String::from_utf8(to_json(&s).unwrap()).unwrap().contains(r#""criterion":"policy""#));
    }

    #[test]
    fn malformed_json_is_invalid_input() {
        let e = parse::<ScorerConfig>(br#"{"n_features":3}"#).unwrap_err();
        assert!(matches!(&e, crate::PolicyError::InvalidInput(m) if m.contains("missing field `n_arms`")), "{e}");
        assert!(parse::<SplitConfig>(br#"{"n_arms":2,"min_node_size":1,"feature_start":0,"codes_per_feature":[3],"criterion":"gini"}"#)
            .is_err());
    }
}

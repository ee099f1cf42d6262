//! The small JSON config blobs that accompany each native call: `BlockConfig` (blockBuilderOpen),
//! `KernelConfig` (kernelOpen), `SplitConfig` (bestSplit), `ScorerConfig` (modelCompile),
//! `LeavesConfig` (blockLeaves). Field names
//! are the wire format shared with `jvm/.../bridge/NativeConfig.scala` (Jackson, snake_case); bump `ABI_VERSION` when they
//! change. Fields with a serde default may be left out; `to_json` writes every field (`null` for
//! `None`), so parsing its output gives the same config.

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

/// Compiling a node table for scoring.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct ScorerConfig {
    pub n_features: usize,
    pub n_arms: usize,
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
        round_trip::<ScorerConfig>(r#"{"n_features":3,"n_arms":2}"#);
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

//! The small JSON config blobs that accompany each native call. Field names are the
//! wire format shared with `jvm/.../exec/NativeConfigs.scala`; bump `ABI_VERSION` when they change.

use serde::Deserialize;

/// Turns one partition's rows into a training block.
#[derive(Debug, Clone, Deserialize)]
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
#[derive(Debug, Clone, Deserialize)]
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

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
pub struct SkipRows {
    pub channel: usize,
    pub value: i64,
}

fn one() -> usize {
    1
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
pub struct Chunk {
    pub slot_start: usize,
    pub slot_end: usize,
    pub feature_start: usize,
    pub feature_end: usize,
}

/// Split search over one merged (node, feature block) histogram.
#[derive(Debug, Clone, Deserialize)]
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

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum Criterion {
    /// policytree's: best-arm Γ sum left plus best-arm Γ sum right.
    #[default]
    Policy,
    /// Multi-output regression: Σ_a (S_aL²/n_aL + S_aR²/n_aR), in f64 from the exact integer sums.
    Outcome,
}

/// Compiling a node table for scoring.
#[derive(Debug, Clone, Deserialize)]
pub struct ScorerConfig {
    pub n_features: usize,
    pub n_arms: usize,
}

pub fn parse<'a, T: Deserialize<'a>>(bytes: &'a [u8]) -> crate::Result<T> {
    Ok(serde_json::from_slice(bytes)?)
}

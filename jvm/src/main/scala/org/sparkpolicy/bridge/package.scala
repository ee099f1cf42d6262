package org.sparkpolicy

/**
 * The JNI bridge: the only code that calls `NativeLib` (package-private in Java, and checked by
 * `PackageBoundarySuite`), and the one JVM owner of every format that crosses: native configs
 * (`NativeConfig`, Jackson), feature batches (`DoubleBatchWriter`), node tables (`NodeTableIpc`),
 * histogram layouts (`HistogramLayout`, and `PairLayout` for the two-level search), split records
 * (`SplitRecord`, and `PairRecord` with a subtree's children), scoring replies and leaf tables
 * (`ScoredColumns`, `LeafScores`), and each block row's leaf (`BlockLeaves`). Handles are wrapped in closeable types tied to the task
 * (`BlockBuilder`, `HistogramKernel`, `PairKernel`, `TaskScorer`); compiled models live in the per-JVM `ScorerCache`, decoded training blocks in the per-process `BlockCache`. `WireFormatSuite` round-trips each
 * format through its Rust owner. Imports `ml.model` only.
 */
package object bridge

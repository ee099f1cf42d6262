package org.sparkpolicy

/**
 * The JNI bridge: the only code that calls `NativeLib` (package-private in Java, and checked by
 * `PackageBoundarySuite`), and the one JVM owner of every format that crosses: native configs
 * (`NativeConfig`, Jackson), feature batches (`DoubleBatchWriter`), node tables (`NodeTableIpc`),
 * histogram layout (`HistogramLayout`), split records (`SplitRecord`), scoring replies and leaf tables
 * (`ScoredColumns`, `LeafScores`), and each block row's leaf (`BlockLeaves`). Handles are wrapped in closeable types tied to the task
 * (`BlockBuilder`, `HistogramKernel`, `TaskScorer`); compiled models live in the per-JVM `ScorerCache`. `WireFormatSuite` round-trips each
 * format through its Rust owner. Imports `ml.model` only.
 */
package object bridge

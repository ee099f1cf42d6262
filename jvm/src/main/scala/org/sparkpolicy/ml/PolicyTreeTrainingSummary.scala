package org.sparkpolicy.ml

import org.sparkpolicy.ml.model.{LevelStats, SplitDecision}

/**
 * What a fit recorded: per-level costs (including how many records reached the driver), the split
 * decisions, and the wall-clock milliseconds of its phases.
 */
final class PolicyTreeTrainingSummary private[sparkpolicy] (
    val levels: Seq[LevelStats],
    val decisions: Seq[SplitDecision],
    val numRows: Long,
    val rewardType: String,
    val rewardShift: Int,
    /** Rows dropped for a missing treatment or outcome under `handleInvalid = "skip"`. */
    val numDroppedRows: Long = 0L,
    /** AIPW rows whose propensity was clipped up to `propensityFloor`. */
    val numClippedPropensities: Long = 0L,
    /**
     * Milliseconds per phase of the fit, in order: `validate` (the validation pass, which also signs the
     * input rows and draws the boundary sample), `boundaries`, `aipw` (AIPW only: cross-fitting and Γ),
     * `binning`, `levels`, `signatures` (the training output signature). Empty for models saved before.
     */
    val phaseMillis: Map[String, Long] = scala.collection.immutable.ListMap.empty) extends Serializable {
  /** Resolution of the fixed-point rewards: each row's Γ is rounded to a multiple of this. */
  def rewardResolution: Double = math.pow(2.0, -rewardShift)

  /**
   * The most native (off-heap) memory any histogram task held: its binned blocks, row routing and
   * largest histogram chunk, plus the chunk's Java copy. Spark does not see this memory; budget it in
   * `spark.executor.memoryOverhead` (see docs/memory.md).
   */
  def peakNativeBytesPerTask: Long = if (levels.isEmpty) 0L else levels.map(_.peakNativeBytesPerTask).max
}

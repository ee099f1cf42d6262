package org.sparkpolicy.train

/** Tree-growing settings, resolved from the learner's Params. */
private[sparkpolicy] final case class TreeSettings(
    maxDepth: Int,
    minNodeSize: Int,
    maxBins: Int,
    maxMemoryMB: Int,
    sampleSize: Int,
    boundaryStrategy: String = "exact",
    nativeThreads: Int = 1,
    thresholdSearch: String = "exact",
    searchDepth: Int = 1) {
  /** Fine thresholds refined from a coarse search; `approx` boundaries are always searched as binned. */
  def refines: Boolean = thresholdSearch == "exact" && boundaryStrategy == "exact"
}

package org.sparkpolicy.train

/**
 * Tree-growing settings, resolved from the learner's Params (and `siblingSubtraction` from the internal session
 * conf `TreeSettings.SiblingSubtractionConf`, there so that tests can compare a fit with and without it).
 */
private[sparkpolicy] final case class TreeSettings(
    maxDepth: Int,
    minNodeSize: Int,
    maxBins: Int,
    maxMemoryMB: Int,
    sampleSize: Int,
    boundaryStrategy: String = "exact",
    nativeThreads: Int = 1,
    thresholdSearch: String = "exact",
    searchDepth: Int = 1,
    siblingSubtraction: Boolean = true,
    refineBins: Int = 8) {
  /** Fine thresholds refined from a coarse search; `approx` boundaries are always searched as binned. */
  def refines: Boolean = thresholdSearch == "exact" && boundaryStrategy == "exact"
}

private[sparkpolicy] object TreeSettings {
  /**
   * Internal session conf (default true): whether a level below a greedy level derives each split's larger
   * child as the parent's histogram minus the smaller child's instead of building it. Same bits either way.
   */
  val SiblingSubtractionConf = "spark.sparkpolicy.fit.siblingSubtraction"

  def siblingSubtraction(session: org.apache.spark.sql.SparkSession): Boolean =
    session.conf.get(SiblingSubtractionConf, "true").toBoolean
}

package org.sparkpolicy.bridge

/** The native split search over one merged (node, feature block) histogram (`native/core/src/split.rs`). */
private[sparkpolicy] object SplitSearch {
  /** The block's best split and runner-up, as a decoded split record. */
  def best(nodeId: Int, featureBlock: Int, histogram: Array[Long], config: NativeConfig.Split): SplitRecord = {
    NativeLib.load()
    SplitRecord.decode(nodeId, featureBlock, NativeLib.bestSplit(histogram, NativeConfig.toJson(config)), config.nArms)
  }

  /**
   * An outcome tree node's own score Σ_a S_a²/n_a from its totals (`outcome::outcome_score`), the value a
   * split's reward must beat; computed natively so the driver and the split search share one definition.
   */
  def outcomeScore(totals: Array[Long], arms: Int): Double = {
    NativeLib.load()
    NativeLib.outcomeScore(totals, arms)
  }
}

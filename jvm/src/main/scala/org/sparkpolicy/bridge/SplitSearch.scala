package org.sparkpolicy.bridge

/**
 * The native split search of one feature block (`native/core/src/split.rs`), its config serialized once
 * when the level is planned, so every (node, feature block) key on the executors reuses the bytes.
 */
private[sparkpolicy] final class SplitSearch(val config: NativeConfig.Split) extends Serializable {
  private val configJson = NativeConfig.toJson(config)

  /**
   * The block's best split and runner-up for one node's merged histogram, as a decoded split record;
   * with `allowed` (one flag per feature of the block, a forest node's feature subset) only those features.
   */
  def best(nodeId: Int, featureBlock: Int, histogram: Array[Long], allowed: Array[Boolean] = null): SplitRecord = {
    NativeLib.load()
    val flags = if (allowed == null) SplitSearch.AllFeatures else allowed.map(a => (if (a) 1 else 0).toByte)
    SplitRecord.decode(nodeId, featureBlock, NativeLib.bestSplit(histogram, configJson, flags), config.nArms)
  }
}

private[sparkpolicy] object SplitSearch {
  private val AllFeatures = Array.emptyByteArray

  /**
   * An outcome tree node's own score Σ_a S_a²/n_a from its totals (`outcome::outcome_score`), the value a
   * split's reward must beat; computed natively so the driver and the split search share one definition.
   */
  def outcomeScore(totals: Array[Long], arms: Int): Double = {
    NativeLib.load()
    NativeLib.outcomeScore(totals, arms)
  }
}

package org.sparkpolicy.bridge

/**
 * The native two-level search of one root feature block (`native/core/src/pair_search.rs`), its config
 * serialized once when the level is planned, so every (node, root block) key on the executors reuses the bytes.
 */
private[sparkpolicy] final class PairSearch(val config: NativeConfig.PairSplit) extends Serializable {
  private val configJson = NativeConfig.toJson(config)

  /** The root split of the node's best depth-2 subtree over the block's roots, with the runner-up and the subtree's children. */
  def best(nodeId: Int, rootBlock: Int, histogram: Array[Long]): PairRecord = {
    NativeLib.load()
    PairRecord.decode(nodeId, rootBlock, NativeLib.bestSubtree(histogram, configJson), config.nArms)
  }
}

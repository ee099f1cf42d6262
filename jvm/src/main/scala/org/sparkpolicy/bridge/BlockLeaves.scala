package org.sparkpolicy.bridge

/**
 * Each row's leaf in a finished tree, read natively from a training block's bin codes
 * (`native/core/src/leaves.rs`): the route the histogram kernel takes, which is the scorer's route on the
 * values the block was built from. One per task: the tree and config are encoded once.
 */
private[sparkpolicy] final class BlockLeaves(treeIpc: Array[Byte], codesPerFeature: Seq[Int]) {
  private val configJson = NativeConfig.toJson(NativeConfig.Leaves(codesPerFeature))

  /** The heap id of the leaf of each row of `block`, in block row order. */
  def of(block: Array[Byte]): Array[Int] = {
    NativeLib.load()
    BlockCache.configure()
    NativeLib.blockLeaves(treeIpc, configJson, block)
  }
}

package org.sparkpolicy.bridge

/**
 * One partition's native threshold-refinement kernel for one tree level (`native/core/src/refine.rs`):
 * it routes the blocks' rows through the current tree once, then emits, per chunk of groups, each
 * group's histogram on its mixed grid (groups in order, each `cells` codes × `[K sums, count]`).
 */
private[sparkpolicy] final class RefineKernel private (handle: Long, release: () => Unit) extends AutoCloseable {
  def addBlock(block: Array[Byte]): Unit = NativeLib.refineKernelAddBlock(handle, block)

  def emit(chunk: Int): Array[Long] = NativeLib.refineKernelEmit(handle, chunk)

  override def close(): Unit = release()
}

private[sparkpolicy] object RefineKernel {
  def open(treeIpc: Array[Byte], config: NativeConfig.Refine): RefineKernel = {
    NativeLib.load()
    BlockCache.configure()
    val handle = NativeLib.refineKernelOpen(treeIpc, NativeConfig.toJson(config))
    new RefineKernel(handle, TaskResources.closeAtTaskEnd(handle))
  }

  /**
   * The fine codes `lo..=hi` of coarse value bin `c` of a feature with `fineCodes` (m value bins + missing) and
   * coarse `cuts` (`coarse::CoarseMap::bin_codes`): (cuts(c − 1), cuts(c)], the last bin up to m − 1. Its fine
   * thresholds strictly inside are `lo until hi`.
   */
  def binCodes(fineCodes: Int, cuts: Array[Int], c: Int): (Int, Int) =
    (if (c == 0) 0 else cuts(c - 1) + 1, if (c < cuts.length) cuts(c) else fineCodes - 2)

  /**
   * Codes of a group's mixed grid (`refine::GroupGrid::cells`): each refined coarse bin's fine codes, one
   * code per other coarse bin (cuts + 1 bins in all), and the missing code.
   */
  def codes(fineCodes: Int, cuts: Array[Int], bins: Seq[Int]): Int = {
    val fine = bins.map { c => val (lo, hi) = binCodes(fineCodes, cuts, c); hi - lo + 1 }.sum
    fine + (cuts.length + 1 - bins.size) + 1
  }

  /**
   * The split record of one merged group histogram: its best is the group's first best threshold on the
   * mixed grid (thresholds ascending, missing right before left, then "missing vs the rest") as a fine
   * code, or none if no threshold keeps `minNodeSize` rows on each side; its totals are the node's.
   */
  def refineSplit(nodeId: Int, config: NativeConfig.RefineSplit, histogram: Array[Long]): SplitRecord = {
    NativeLib.load()
    SplitRecord.decode(nodeId, 0, NativeLib.refineSplit(histogram, NativeConfig.toJson(config)), config.nArms)
  }
}

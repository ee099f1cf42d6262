package org.sparkpolicy.bridge

/**
 * One partition's native threshold-refinement kernel for one tree level (`native/core/src/refine.rs`):
 * it routes the blocks' rows through the current tree once, then emits, per chunk of windows, the
 * histograms of each window's fine codes (windows in order, each `(hi − lo + 1)` codes × `[K sums, count]`).
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

  /** Cells of one window's histogram. */
  def cells(w: NativeConfig.Window, nArms: Int): Int = (w.hi - w.lo + 1) * (nArms + 1)

  /**
   * The split record of one node's merged window histogram: its best is the window's first best fine
   * threshold (thresholds ascending, missing right before left), or none if no fine threshold keeps
   * `minNodeSize` rows on each side.
   */
  def refineSplit(nodeId: Int, feature: Int, window: RefineWindow, totals: Array[Long], histogram: Array[Long],
      config: Array[Byte], nArms: Int): SplitRecord = {
    NativeLib.load()
    val node = Array[Long](feature, window.lo, window.hi) ++ totals ++ window.below ++ window.missing
    SplitRecord.decode(nodeId, 0, NativeLib.refineSplit(histogram, node, config), nArms)
  }
}

package org.sparkpolicy.bridge

/**
 * One partition's native pair-histogram kernel for one tree level, the two-level search's
 * (`native/core/src/pair.rs`): it routes the blocks' rows through the current tree once, then emits
 * each chunk's exact integer 2-D histograms in the layout `PairLayout` describes. Closed by `close`
 * or the end of the task.
 */
private[sparkpolicy] final class PairKernel private (handle: Long, release: () => Unit) extends AutoCloseable {
  def addBlock(block: Array[Byte]): Unit = NativeLib.pairKernelAddBlock(handle, block)

  /** The pair histograms of chunk `index` of the config's chunk list. */
  def emit(index: Int): Array[Long] = NativeLib.pairKernelEmit(handle, index)

  /** Native bytes held so far: the blocks and row routing plus the largest chunk. */
  def peakBytes: Long = NativeLib.pairKernelPeakBytes(handle)

  override def close(): Unit = release()
}

private[sparkpolicy] object PairKernel {
  def open(treeIpc: Array[Byte], config: NativeConfig.Pair): PairKernel = {
    NativeLib.load()
    BlockCache.configure()
    val handle = NativeLib.pairKernelOpen(treeIpc, NativeConfig.toJson(config))
    new PairKernel(handle, TaskResources.closeAtTaskEnd(handle))
  }
}

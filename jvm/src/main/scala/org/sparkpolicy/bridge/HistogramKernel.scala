package org.sparkpolicy.bridge

/**
 * One partition's native histogram kernel for one tree level (`native/core/src/histogram.rs`): it
 * routes the blocks' rows through the current tree once, then emits each chunk's exact integer
 * histograms in the layout `HistogramLayout` describes. Closed by `close` or the end of the task.
 */
private[sparkpolicy] final class HistogramKernel private (handle: Long, release: () => Unit) extends AutoCloseable {
  def addBlock(block: Array[Byte]): Unit = NativeLib.kernelAddBlock(handle, block)

  /** The histograms of chunk `index` of the kernel config's chunk list. */
  def emit(index: Int): Array[Long] = NativeLib.kernelEmit(handle, index)

  /** Native bytes held so far: the blocks and row routing plus the largest chunk. */
  def peakBytes: Long = NativeLib.kernelPeakBytes(handle)

  override def close(): Unit = release()
}

private[sparkpolicy] object HistogramKernel {
  def open(treeIpc: Array[Byte], config: NativeConfig.Kernel): HistogramKernel = {
    NativeLib.load()
    BlockCache.configure()
    val handle = NativeLib.kernelOpen(treeIpc, NativeConfig.toJson(config))
    new HistogramKernel(handle, TaskResources.closeAtTaskEnd(handle))
  }
}

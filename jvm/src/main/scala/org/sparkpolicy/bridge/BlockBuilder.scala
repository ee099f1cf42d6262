package org.sparkpolicy.bridge

/**
 * A native builder of one training block (`native/core/src/block.rs`): Arrow IPC batches of doubles
 * (features, then channels) go in, the block's bytes come out. Closed by `finish`, `close` or the end of
 * the task, whichever comes first.
 */
private[sparkpolicy] final class BlockBuilder private (handle: Long, release: () => Unit) extends AutoCloseable {
  def push(featureBatchIpc: Array[Byte]): Unit = NativeLib.blockBuilderPush(handle, featureBatchIpc, featureBatchIpc.length)

  /** The stream in `ipc`, without copying it out first. */
  def push(ipc: IpcBuffer): Unit = NativeLib.blockBuilderPush(handle, ipc.bytes, ipc.length)

  /** The block's bytes; the builder is closed afterwards. */
  def finish(): Array[Byte] = try NativeLib.blockBuilderFinish(handle) finally release()

  override def close(): Unit = release()
}

private[sparkpolicy] object BlockBuilder {
  def open(config: NativeConfig.Block, flatEdges: Array[Double]): BlockBuilder = {
    NativeLib.load()
    val handle = NativeLib.blockBuilderOpen(NativeConfig.toJson(config), flatEdges)
    new BlockBuilder(handle, TaskResources.closeAtTaskEnd(handle))
  }
}

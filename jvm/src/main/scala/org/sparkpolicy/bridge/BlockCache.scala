package org.sparkpolicy.bridge

import org.apache.spark.SparkEnv

/**
 * The executor's cache of decoded training blocks (`native/core/src/block_cache.rs`): a pass over the
 * cached blocks (each level, its refinement, the output signature) sends a block's 32-byte header across
 * JNI when the block is cached, its bytes otherwise. Its budget is the executor's
 * [[BlockCache.Conf]] (MiB of native memory, default 256, 0 turns it off), outside the JVM heap: count
 * it in `spark.executor.memoryOverhead`. Applied when a kernel that reads blocks opens.
 */
private[sparkpolicy] object BlockCache {
  val Conf = "spark.sparkpolicy.native.blockCacheMB"
  val DefaultMB = 256L
  @volatile private var appliedMB = -1L

  /** Applies this executor's budget to the native cache, when it changed. */
  def configure(): Unit = {
    val mb = Option(SparkEnv.get).map(_.conf.get(Conf, DefaultMB.toString).trim).map { v =>
      v.toLongOption.filter(_ >= 0).getOrElse(
        throw new IllegalArgumentException(s"$Conf must be a whole number of MiB, 0 or more, not '$v'"))
    }.getOrElse(DefaultMB)
    if (mb != appliedMB) synchronized {
      if (mb != appliedMB) {
        NativeLib.load()
        NativeLib.blockCacheBudget(mb << 20)
        appliedMB = mb
      }
    }
  }
}

package org.sparkpolicy.bridge

import org.apache.arrow.memory.{BufferAllocator, RootAllocator}

/** One Arrow allocator per JVM for the bridge (Spark's own is private to Spark SQL). */
private[sparkpolicy] object ArrowAllocator {
  lazy val root: BufferAllocator = new RootAllocator(Long.MaxValue)
  def child(name: String): BufferAllocator = root.newChildAllocator(name, 0, Long.MaxValue)
}

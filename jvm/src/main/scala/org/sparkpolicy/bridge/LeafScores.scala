package org.sparkpolicy.bridge

import java.nio.ByteOrder

import org.apache.arrow.memory.BufferAllocator
import org.apache.arrow.vector.{FieldVector, Float8Vector, IntVector}
import org.apache.arrow.vector.complex.FixedSizeListVector
import org.apache.arrow.vector.ipc.ArrowStreamReader
import org.apache.arrow.vector.util.ByteArrayReadableSeekableByteChannel

/**
 * A compiled model's leaves, indexed by heap id: each leaf's K scores (mean Γ per arm).
 * Read once per task from the native scorer (`reply::LeafTable`, native/core/src/reply.rs); scored rows carry only their leaf.
 */
private[sparkpolicy] final class LeafScores(ids: Array[Int], values: Array[Double], val nArms: Int) {
  /** One past the largest leaf id. */
  val size: Int = if (ids.isEmpty) 0 else ids.max + 1
  private val byId: Array[Array[Double]] = {
    val a = new Array[Array[Double]](size)
    ids.indices.foreach(i => a(ids(i)) = java.util.Arrays.copyOfRange(values, i * nArms, (i + 1) * nArms))
    a
  }

  def has(leaf: Int): Boolean = leaf < size && byId(leaf) != null

  /** Leaf `leaf`'s scores; shared, do not modify. */
  def scores(leaf: Int): Array[Double] = byId(leaf)
}

private[sparkpolicy] object LeafScores {
  def fromIpc(bytes: Array[Byte], nArms: Int, allocator: BufferAllocator): LeafScores = {
    val reader = new ArrowStreamReader(new ByteArrayReadableSeekableByteChannel(bytes), allocator)
    try {
      val root = reader.getVectorSchemaRoot
      if (!reader.loadNextBatch()) throw new IllegalStateException("the native leaf table has no batch")
      val n = root.getRowCount
      val values = root.getVector("scores").asInstanceOf[FixedSizeListVector].getDataVector
      new LeafScores(ints(root.getVector("leaf"), n), doubles(values, n * nArms), nArms)
    } finally reader.close()
  }

  /** Whole buffers at once: the columns are non-null, so the value buffers are the data. */
  private def ints(v: FieldVector, n: Int): Array[Int] = {
    val a = new Array[Int](n)
    v.asInstanceOf[IntVector].getDataBuffer.nioBuffer(0, 4 * n).order(ByteOrder.LITTLE_ENDIAN).asIntBuffer().get(a)
    a
  }

  private def doubles(v: FieldVector, n: Int): Array[Double] = {
    val a = new Array[Double](n)
    v.asInstanceOf[Float8Vector].getDataBuffer.nioBuffer(0, 8 * n).order(ByteOrder.LITTLE_ENDIAN).asDoubleBuffer().get(a)
    a
  }
}

package org.sparkpolicy.bridge

import java.nio.ByteOrder
import org.apache.arrow.memory.BufferAllocator
import org.apache.arrow.vector.{FieldVector, Float8Vector, IntVector}
import org.apache.arrow.vector.ipc.ArrowStreamReader
import org.apache.arrow.vector.util.ByteArrayReadableSeekableByteChannel

/** The scorer's reply, column by column: chosen arm and leaf id per row (scores: the leaf's, in `LeafScores`). */
private[sparkpolicy] final case class ScoredColumns(action: Array[Int], leaf: Array[Int]) {
  def size: Int = action.length
}

private[sparkpolicy] object ScoredColumns {
  /** Decodes the IPC stream written by `reply::Scores` (native/core/src/reply.rs) (action Int32, leaf Int32; one batch per input batch). */
  def fromIpc(bytes: Array[Byte], allocator: BufferAllocator): ScoredColumns = {
    val reader = new ArrowStreamReader(new ByteArrayReadableSeekableByteChannel(bytes), allocator)
    try {
      val root = reader.getVectorSchemaRoot
      val actions = Array.newBuilder[Array[Int]]
      val leaves = Array.newBuilder[Array[Int]]
      while (reader.loadNextBatch()) {
        val n = root.getRowCount
        actions += ints(root.getVector("action"), n)
        leaves += ints(root.getVector("leaf"), n)
      }
      ScoredColumns(actions.result().flatten, leaves.result().flatten)
    } finally reader.close()
  }

  /** Whole buffers at once: the columns are non-null, so the value buffers are the data. */
  private[bridge] def ints(v: FieldVector, n: Int): Array[Int] = {
    val a = new Array[Int](n)
    v.asInstanceOf[IntVector].getDataBuffer.nioBuffer(0, 4 * n).order(ByteOrder.LITTLE_ENDIAN).asIntBuffer().get(a)
    a
  }

  private[bridge] def doubles(v: FieldVector, n: Int): Array[Double] = {
    val a = new Array[Double](n)
    v.asInstanceOf[Float8Vector].getDataBuffer.nioBuffer(0, 8 * n).order(ByteOrder.LITTLE_ENDIAN).asDoubleBuffer().get(a)
    a
  }
}

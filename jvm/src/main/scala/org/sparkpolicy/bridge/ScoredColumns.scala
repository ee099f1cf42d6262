package org.sparkpolicy.bridge

import java.nio.ByteOrder

import scala.jdk.CollectionConverters._

import org.apache.arrow.memory.BufferAllocator
import org.apache.arrow.vector.{FieldVector, Float8Vector, IntVector}
import org.apache.arrow.vector.complex.FixedSizeListVector
import org.apache.arrow.vector.ipc.ArrowStreamReader
import org.apache.arrow.vector.util.ByteArrayReadableSeekableByteChannel

/**
 * The scorer's reply, column by column: each row's arm and, for a tree, its leaf id (scores: the leaf's, in
 * `LeafScores`); for a forest of `nTrees` trees (`leaf` null), its K mean scores (`scores(r * K + a)`) and
 * each tree's leaf (`leaves(r * nTrees + t)`).
 */
private[sparkpolicy] final case class ScoredColumns(action: Array[Int], leaf: Array[Int], scores: Array[Double] = null,
    leaves: Array[Int] = null, nTrees: Int = 0) {
  def size: Int = action.length
}

private[sparkpolicy] object ScoredColumns {
  /**
   * Decodes the IPC stream written by `reply::Scores` (action Int32, leaf Int32) or, for a forest,
   * `reply::ForestScores` (action Int32, scores FixedSizeList<Float64>[K], leaves FixedSizeList<Int32>[T])
   * (native/core/src/reply.rs); one batch per input batch.
   */
  def fromIpc(bytes: Array[Byte], allocator: BufferAllocator): ScoredColumns = {
    val reader = new ArrowStreamReader(new ByteArrayReadableSeekableByteChannel(bytes), allocator)
    try {
      val root = reader.getVectorSchemaRoot
      val forest = root.getSchema.getFields.asScala.exists(_.getName == "leaves")
      val actions = Array.newBuilder[Array[Int]]
      val leaves = Array.newBuilder[Array[Int]]
      val scores = Array.newBuilder[Array[Double]]
      var nTrees = 0
      while (reader.loadNextBatch()) {
        val n = root.getRowCount
        actions += ints(root.getVector("action"), n)
        if (forest) {
          val k = root.getVector("scores").asInstanceOf[FixedSizeListVector]
          val t = root.getVector("leaves").asInstanceOf[FixedSizeListVector]
          nTrees = t.getListSize
          scores += doubles(k.getDataVector, n * k.getListSize)
          leaves += ints(t.getDataVector, n * nTrees)
        } else leaves += ints(root.getVector("leaf"), n)
      }
      if (forest) ScoredColumns(actions.result().flatten, null, scores.result().flatten, leaves.result().flatten, nTrees)
      else ScoredColumns(actions.result().flatten, leaves.result().flatten)
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

package org.sparkpolicy.exec

import java.io.{ByteArrayInputStream, ByteArrayOutputStream}
import java.nio.ByteOrder
import java.nio.channels.Channels

import scala.jdk.CollectionConverters._

import org.apache.arrow.memory.{BufferAllocator, RootAllocator}
import org.apache.arrow.vector.{Float8Vector, IntVector, VectorSchemaRoot}
import org.apache.arrow.vector.complex.FixedSizeListVector
import org.apache.arrow.vector.ipc.{ArrowStreamReader, ArrowStreamWriter}
import org.apache.arrow.vector.types.FloatingPointPrecision
import org.apache.arrow.vector.types.pojo.{ArrowType, Field, FieldType, Schema}

/** One Arrow allocator per JVM for the bridge (Spark's own is private to Spark SQL). */
private[sparkpolicy] object ArrowAllocator {
  lazy val root: BufferAllocator = new RootAllocator(Long.MaxValue)
  def child(name: String): BufferAllocator = root.newChildAllocator(name, 0, Long.MaxValue)
}

/**
 * Fills nullable Float64 columns row by row and serializes them as an Arrow IPC stream of one
 * batch. Reused across batches of a partition, so its buffers are allocated once per task.
 */
private[sparkpolicy] final class DoubleBatchWriter(names: Seq[String], initialCapacity: Int) extends AutoCloseable {
  private val allocator = ArrowAllocator.child("sparkpolicy-batch-writer")
  private val schema = new Schema(names.map { n =>
    new Field(n, FieldType.nullable(new ArrowType.FloatingPoint(FloatingPointPrecision.DOUBLE)), null)
  }.asJava)
  private val root = VectorSchemaRoot.create(schema, allocator)
  private val vectors: Array[Float8Vector] = root.getFieldVectors.asScala.map(_.asInstanceOf[Float8Vector]).toArray
  vectors.foreach(_.setInitialCapacity(initialCapacity))
  root.allocateNew()
  private var rows = 0

  def rowCount: Int = rows

  /** Writes `value` (NaN is kept as NaN; the kernels treat it as missing) into column `col` of the current row. */
  @inline def set(col: Int, value: Double): Unit = vectors(col).setSafe(rows, value)

  @inline def setNull(col: Int): Unit = vectors(col).setNull(rows)

  @inline def endRow(): Unit = rows += 1

  /** Serializes the filled rows and starts a new empty batch. */
  def drainToIpc(): Array[Byte] = {
    vectors.foreach(_.setValueCount(rows))
    root.setRowCount(rows)
    val out = new ByteArrayOutputStream(math.min(64L + rows.toLong * vectors.length * 9, 1L << 26).toInt)
    val writer = new ArrowStreamWriter(root, null, Channels.newChannel(out))
    writer.start()
    writer.writeBatch()
    writer.end()
    writer.close()
    vectors.foreach(_.reset())
    rows = 0
    out.toByteArray
  }

  override def close(): Unit = {
    root.close()
    allocator.close()
  }
}

/** The scorer's reply, column by column: chosen arm, leaf id and K scores per row (row-major). */
private[sparkpolicy] final case class ScoredColumns(action: Array[Int], leaf: Array[Int], scores: Array[Double], nArms: Int) {
  def size: Int = action.length

  def append(o: ScoredColumns): ScoredColumns = ScoredColumns(action ++ o.action, leaf ++ o.leaf, scores ++ o.scores, nArms)
}

private[sparkpolicy] object ScoredColumns {
  /** Decodes the IPC stream written by `ipc::scores_batch` (action Int32, leaf Int32, scores FixedSizeList<Float64>). */
  def fromIpc(bytes: Array[Byte], nArms: Int, allocator: BufferAllocator): ScoredColumns = {
    val reader = new ArrowStreamReader(new ByteArrayInputStream(bytes), allocator)
    try {
      val root = reader.getVectorSchemaRoot
      var out = ScoredColumns(Array.emptyIntArray, Array.emptyIntArray, Array.emptyDoubleArray, nArms)
      while (reader.loadNextBatch()) {
        val n = root.getRowCount
        val values = root.getVector("scores").asInstanceOf[FixedSizeListVector].getDataVector
        // Whole buffers at once: the columns are non-null, so the value buffers are the data.
        val batch = ScoredColumns(
          ints(root.getVector("action").asInstanceOf[IntVector], n),
          ints(root.getVector("leaf").asInstanceOf[IntVector], n),
          doubles(values.asInstanceOf[Float8Vector], n * nArms),
          nArms)
        out = if (out.size == 0) batch else out.append(batch)
      }
      out
    } finally reader.close()
  }

  private def ints(v: IntVector, n: Int): Array[Int] = {
    val a = new Array[Int](n)
    v.getDataBuffer.nioBuffer(0, 4 * n).order(ByteOrder.LITTLE_ENDIAN).asIntBuffer().get(a)
    a
  }

  private def doubles(v: Float8Vector, n: Int): Array[Double] = {
    val a = new Array[Double](n)
    v.getDataBuffer.nioBuffer(0, 8 * n).order(ByteOrder.LITTLE_ENDIAN).asDoubleBuffer().get(a)
    a
  }
}

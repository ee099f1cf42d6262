package org.sparkpolicy.exec

import java.nio.{ByteBuffer, ByteOrder}
import java.nio.channels.WritableByteChannel

import scala.jdk.CollectionConverters._

import org.apache.arrow.memory.{BufferAllocator, RootAllocator}
import org.apache.arrow.vector.{BitVectorHelper, FieldVector, Float8Vector, IntVector, VectorSchemaRoot}
import org.apache.arrow.vector.complex.FixedSizeListVector
import org.apache.arrow.vector.ipc.{ArrowStreamReader, ArrowStreamWriter}
import org.apache.arrow.vector.types.FloatingPointPrecision
import org.apache.arrow.vector.types.pojo.{ArrowType, Field, FieldType, Schema}
import org.apache.arrow.vector.util.ByteArrayReadableSeekableByteChannel

/** One Arrow allocator per JVM for the bridge (Spark's own is private to Spark SQL). */
private[sparkpolicy] object ArrowAllocator {
  lazy val root: BufferAllocator = new RootAllocator(Long.MaxValue)
  def child(name: String): BufferAllocator = root.newChildAllocator(name, 0, Long.MaxValue)
}

/**
 * Collects nullable Float64 columns row by row into plain Java arrays, then serializes them as an
 * Arrow IPC stream of one batch with one bulk copy per column (per-value Arrow setters, with their
 * bounds and reference checks, cost more than the scoring). Reused across a task's batches.
 */
private[sparkpolicy] final class DoubleBatchWriter(names: Seq[String], initialCapacity: Int) extends AutoCloseable {
  private val allocator = ArrowAllocator.child("sparkpolicy-batch-writer")
  private val schema = new Schema(names.map { n =>
    new Field(n, FieldType.nullable(new ArrowType.FloatingPoint(FloatingPointPrecision.DOUBLE)), null)
  }.asJava)
  private val root = VectorSchemaRoot.create(schema, allocator)
  private val vectors: Array[Float8Vector] = root.getFieldVectors.asScala.map(_.asInstanceOf[Float8Vector]).toArray
  private var capacity = math.max(1, initialCapacity)
  private val values: Array[Array[Double]] = Array.fill(vectors.length)(new Array[Double](capacity))
  /** Rows marked missing since the last drain, per column (missing values are rare; most batches have none). */
  private val missing: Array[scala.collection.mutable.ArrayBuilder.ofInt] = Array.fill(vectors.length)(new scala.collection.mutable.ArrayBuilder.ofInt)
  private val ipc = new IpcBuffer(1 << 16)
  private var rows = 0

  def rowCount: Int = rows

  /** Writes `value` (NaN is kept as NaN; the kernels treat it as missing) into column `col` of the current row. */
  @inline def set(col: Int, value: Double): Unit = {
    if (rows == capacity) grow()
    values(col)(rows) = value
  }

  @inline def setNull(col: Int): Unit = {
    if (rows == capacity) grow()
    values(col)(rows) = 0.0
    missing(col) += rows
  }

  @inline def endRow(): Unit = rows += 1

  /** Appends `n` rows of column `col` at once (`values(i)`, or missing where `missing(i)`); then `endRows(n)`. */
  def putColumn(col: Int, values: Array[Double], missingAt: Int => Boolean, hasMissing: Boolean, n: Int): Unit = {
    while (rows + n > capacity) grow()
    System.arraycopy(values, 0, this.values(col), rows, n)
    if (hasMissing) {
      var i = 0
      while (i < n) {
        if (missingAt(i)) { this.values(col)(rows + i) = 0.0; missing(col) += rows + i }
        i += 1
      }
    }
  }

  def endRows(n: Int): Unit = rows += n

  private def grow(): Unit = {
    capacity *= 2
    var c = 0
    while (c < values.length) { values(c) = java.util.Arrays.copyOf(values(c), capacity); c += 1 }
  }

  /** Serializes the filled rows and starts a new empty batch; a copy of the stream's bytes. */
  def drainToIpc(): Array[Byte] = drain().toByteArray

  /** Serializes the filled rows and starts a new empty batch; the stream is valid until the next drain. */
  def drain(): IpcBuffer = {
    var c = 0
    while (c < vectors.length) {
      val v = vectors(c)
      if (v.getValueCapacity < rows) v.allocateNew(rows)
      if (rows > 0) v.getDataBuffer.nioBuffer(0, 8 * rows).order(ByteOrder.LITTLE_ENDIAN).asDoubleBuffer().put(values(c), 0, rows)
      val validity = v.getValidityBuffer
      val validityBytes = BitVectorHelper.getValidityBufferSize(rows)
      validity.setOne(0, validityBytes)
      if (rows % 8 != 0) validity.setByte(validityBytes - 1, (1 << (rows % 8)) - 1)
      missing(c).result().foreach(r => BitVectorHelper.unsetBit(validity, r))
      missing(c).clear()
      v.setValueCount(rows)
      c += 1
    }
    root.setRowCount(rows)
    ipc.reset()
    val writer = new ArrowStreamWriter(root, null, ipc)
    writer.start()
    writer.writeBatch()
    writer.end()
    writer.close() // closes `ipc` too, which stays usable: its close is a no-op
    rows = 0
    ipc
  }

  override def close(): Unit = {
    root.close()
    allocator.close()
  }
}

/**
 * A reused, growable byte array that Arrow's IPC writer writes into directly: no stream wrapper
 * copying through its own chunk buffer, no final copy. Bytes `[0, length)` are the stream.
 */
private[sparkpolicy] final class IpcBuffer(initialCapacity: Int) extends WritableByteChannel {
  private var buffer = new Array[Byte](math.max(initialCapacity, 64))
  private var size = 0

  def bytes: Array[Byte] = buffer
  def length: Int = size
  def reset(): Unit = size = 0
  def toByteArray: Array[Byte] = java.util.Arrays.copyOf(buffer, size)

  override def write(src: ByteBuffer): Int = {
    val n = src.remaining()
    if (size + n > buffer.length) buffer = java.util.Arrays.copyOf(buffer, math.max(size + n, 2 * buffer.length))
    src.get(buffer, size, n)
    size += n
    n
  }

  override def isOpen: Boolean = true
  override def close(): Unit = ()
}

/** The scorer's reply, column by column: chosen arm and leaf id per row (scores: the leaf's, in `LeafScores`). */
private[sparkpolicy] final case class ScoredColumns(action: Array[Int], leaf: Array[Int]) {
  def size: Int = action.length
}

private[sparkpolicy] object ScoredColumns {
  /** Decodes the IPC stream written by `ipc::scores_batch` (action Int32, leaf Int32; one batch per input batch). */
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
  private[exec] def ints(v: FieldVector, n: Int): Array[Int] = {
    val a = new Array[Int](n)
    v.asInstanceOf[IntVector].getDataBuffer.nioBuffer(0, 4 * n).order(ByteOrder.LITTLE_ENDIAN).asIntBuffer().get(a)
    a
  }

  private[exec] def doubles(v: FieldVector, n: Int): Array[Double] = {
    val a = new Array[Double](n)
    v.asInstanceOf[Float8Vector].getDataBuffer.nioBuffer(0, 8 * n).order(ByteOrder.LITTLE_ENDIAN).asDoubleBuffer().get(a)
    a
  }
}

/**
 * A compiled model's leaves, indexed by heap id: each leaf's K scores (mean Γ per arm).
 * Read once per task from the native scorer (`ipc::leaf_table_batch`); scored rows carry only their leaf.
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
      new LeafScores(ScoredColumns.ints(root.getVector("leaf"), n), ScoredColumns.doubles(values, n * nArms), nArms)
    } finally reader.close()
  }
}

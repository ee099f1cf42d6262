package org.sparkpolicy.bridge

import java.nio.ByteOrder
import scala.jdk.CollectionConverters._
import org.apache.arrow.vector.{BitVectorHelper, Float8Vector, VectorSchemaRoot}
import org.apache.arrow.vector.ipc.ArrowStreamWriter
import org.apache.arrow.vector.types.FloatingPointPrecision
import org.apache.arrow.vector.types.pojo.{ArrowType, Field, FieldType, Schema}
import org.apache.spark.sql.vectorized.ColumnVector

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
  private val missing: Array[Array[Int]] = Array.fill(vectors.length)(new Array[Int](4))
  private val missingCount: Array[Int] = new Array[Int](vectors.length)
  private val ipc = new IpcBuffer(1 << 16)
  private var rows = 0

  def rowCount: Int = rows

  def columns: Int = vectors.length

  /** Writes `value` (NaN is kept as NaN; the kernels treat it as missing) into column `col` of the current row. */
  @inline def set(col: Int, value: Double): Unit = {
    if (rows == capacity) grow()
    values(col)(rows) = value
  }

  @inline def setNull(col: Int): Unit = {
    if (rows == capacity) grow()
    values(col)(rows) = 0.0
    markMissing(col, rows)
  }

  @inline def endRow(): Unit = rows += 1

  /**
   * Appends rows `from until from + n` of `vector` (Spark's column vector of doubles) to column `col`,
   * nulls as missing, as `set` and `setNull` would row by row; then `endRows(n)` once every column has
   * them. Read value by value: `getDoubles` would allocate and zero a copy first.
   */
  def putVector(col: Int, vector: ColumnVector, from: Int, n: Int): Unit = {
    while (rows + n > capacity) grow()
    val dst = values(col)
    var i = 0
    while (i < n) { dst(rows + i) = vector.getDouble(from + i); i += 1 }
    if (vector.hasNull) {
      i = 0
      while (i < n) {
        if (vector.isNullAt(from + i)) { dst(rows + i) = 0.0; markMissing(col, rows + i) }
        i += 1
      }
    }
  }

  def endRows(n: Int): Unit = rows += n

  /** Column `col`'s values since the last drain (the first `rowCount`; a missing row's is 0.0); valid until then. */
  def columnValues(col: Int): Array[Double] = values(col)

  /** The rows of column `col` marked missing since the last drain, ascending. */
  def missingRows(col: Int): Array[Int] = java.util.Arrays.copyOf(missing(col), missingCount(col))

  private def markMissing(col: Int, row: Int): Unit = {
    if (missingCount(col) == missing(col).length) missing(col) = java.util.Arrays.copyOf(missing(col), 2 * missing(col).length)
    missing(col)(missingCount(col)) = row
    missingCount(col) += 1
  }

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
      var m = 0
      while (m < missingCount(c)) { BitVectorHelper.unsetBit(validity, missing(c)(m)); m += 1 }
      missingCount(c) = 0
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

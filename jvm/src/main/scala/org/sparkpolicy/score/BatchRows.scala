package org.sparkpolicy.score

import org.apache.spark.sql.catalyst.InternalRow
import org.apache.spark.sql.catalyst.expressions.UnsafeRow
import org.apache.spark.unsafe.Platform

/**
 * The rows of one batch, owned by the batch: the upstream iterator reuses its row object. Unsafe
 * rows are copied into one reused byte arena (no allocation per row); other rows are copied.
 */
private[sparkpolicy] final class BatchRows(capacity: Int) {
  private val rows = new Array[InternalRow](capacity)
  private val views = Array.fill[UnsafeRow](capacity)(null)
  private var arena = new Array[Byte](1 << 16)
  private var used = 0L
  private var size = 0

  def apply(i: Int): InternalRow = rows(i)

  def clear(): Unit = { size = 0; used = 0L }

  def add(row: InternalRow): InternalRow = {
    val owned = row match {
      case u: UnsafeRow =>
        val bytes = u.getSizeInBytes
        if (used + bytes > arena.length) {
          // Rows already added keep pointing at the old arena; new rows go to a fresh, larger one.
          arena = new Array[Byte](math.max(arena.length * 2, bytes * 2))
          used = 0L
        }
        val view = if (views(size) != null && views(size).numFields == u.numFields) views(size) else new UnsafeRow(u.numFields)
        views(size) = view
        u.writeToMemory(arena, Platform.BYTE_ARRAY_OFFSET + used)
        view.pointTo(arena, (Platform.BYTE_ARRAY_OFFSET + used), bytes)
        used += bytes
        view
      case other => other.copy()
    }
    rows(size) = owned
    size += 1
    owned
  }
}

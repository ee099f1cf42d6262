package org.sparkpolicy.score

import org.apache.spark.sql.catalyst.InternalRow
import org.apache.spark.sql.catalyst.expressions.{SpecificInternalRow, UnsafeArrayData}
import org.apache.spark.unsafe.Platform
import org.apache.spark.unsafe.types.UTF8String
import org.sparkpolicy.bridge.{LeafScores, ScoredColumns}
import org.sparkpolicy.ml.model.PolicyOutputColumns

/**
 * The four output columns of one scored row, in one reused typed row (a generic row would box every
 * int). A tree's row scores are its leaf's, so each leaf's array is built once and shared by its rows
 * (`table`); a forest's (`table` null) are the row's own, copied with its leaves (unless `withLeaves` is false:
 * then the row has the first three columns) out of the reply.
 */
private[sparkpolicy] final class ScoredOutputs(vocabulary: Array[String], table: LeafScores, withLeaves: Boolean = true) {
  private val forest = table == null
  private val leaves = !forest || withLeaves
  private val labels = vocabulary.map(UTF8String.fromString)
  private val row = new SpecificInternalRow(PolicyOutputColumns.fields(forest).take(if (leaves) 4 else 3).map(_.dataType))
  private val leafScores =
    if (forest) null else Array.tabulate(table.size)(leaf => if (table.has(leaf)) UnsafeArrayData.fromPrimitiveArray(table.scores(leaf)) else null)
  private val k = vocabulary.length

  /** Row `i` of a scored batch. */
  def apply(scored: ScoredColumns, i: Int): InternalRow = {
    val arm = scored.action(i)
    row.update(0, labels(arm))
    row.setInt(1, arm)
    if (forest) {
      val t = scored.nTrees
      row.update(2, UnsafeArrayData.fromPrimitiveArray(scored.scores, Platform.DOUBLE_ARRAY_OFFSET + 8 * i * k, k, 8))
      if (leaves) row.update(3, UnsafeArrayData.fromPrimitiveArray(scored.leaves, Platform.INT_ARRAY_OFFSET + 4 * i * t, t, 4))
    } else {
      val leaf = scored.leaf(i)
      row.update(2, leafScores(leaf))
      row.setInt(3, leaf)
    }
    row
  }
}

package org.sparkpolicy.score

import org.apache.spark.sql.catalyst.InternalRow
import org.apache.spark.sql.catalyst.expressions.{SpecificInternalRow, UnsafeArrayData}
import org.apache.spark.unsafe.types.UTF8String
import org.sparkpolicy.bridge.{LeafScores, ScoredColumns}
import org.sparkpolicy.ml.model.PolicyOutputColumns

/**
 * The four output columns of one scored row, in one reused typed row (a generic row would box every
 * int). A row's scores are its leaf's, so each leaf's array is built once and shared by its rows.
 */
private[sparkpolicy] final class ScoredOutputs(vocabulary: Array[String], table: LeafScores) {
  private val labels = vocabulary.map(UTF8String.fromString)
  private val row = new SpecificInternalRow(PolicyOutputColumns.Fields.map(_.dataType))
  private val leafScores = Array.tabulate(table.size)(leaf => if (table.has(leaf)) UnsafeArrayData.fromPrimitiveArray(table.scores(leaf)) else null)

  /** Row `i` of a scored batch. */
  def apply(scored: ScoredColumns, i: Int): InternalRow = {
    val arm = scored.action(i)
    val leaf = scored.leaf(i)
    row.update(0, labels(arm))
    row.setInt(1, arm)
    row.update(2, leafScores(leaf))
    row.setInt(3, leaf)
    row
  }
}

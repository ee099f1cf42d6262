package org.sparkpolicy.score

import org.apache.spark.sql.types.{ArrayType, DataType, Decimal, DoubleType, IntegerType, StringType}
import org.apache.spark.sql.vectorized.{ColumnVector, ColumnarArray, ColumnarMap}
import org.apache.spark.unsafe.types.UTF8String
import org.sparkpolicy.bridge.LeafScores
import org.sparkpolicy.ml.model.PolicyOutputColumns

/**
 * The four output columns of a scored columnar batch, as read-only vectors over the batch's arm and
 * leaf indices. Labels and score arrays are per arm and per leaf, so no row copies anything: Spark's
 * generated ColumnarToRow code reads them like any other column. None has nulls.
 */
private[sparkpolicy] abstract class ScoredVector(dataType: DataType) extends ColumnVector(dataType) {
  override def close(): Unit = ()
  override def hasNull: Boolean = false
  override def numNulls: Int = 0
  override def isNullAt(rowId: Int): Boolean = false

  private def unsupported = throw new UnsupportedOperationException(s"a ${dataType.simpleString} scoring output has no such value")
  override def getBoolean(rowId: Int): Boolean = unsupported
  override def getByte(rowId: Int): Byte = unsupported
  override def getShort(rowId: Int): Short = unsupported
  override def getInt(rowId: Int): Int = unsupported
  override def getLong(rowId: Int): Long = unsupported
  override def getFloat(rowId: Int): Float = unsupported
  override def getDouble(rowId: Int): Double = unsupported
  override def getArray(rowId: Int): ColumnarArray = unsupported
  override def getMap(ordinal: Int): ColumnarMap = unsupported
  override def getDecimal(rowId: Int, precision: Int, scale: Int): Decimal = unsupported
  override def getUTF8String(rowId: Int): UTF8String = unsupported
  override def getBinary(rowId: Int): Array[Byte] = unsupported
  override def getChild(ordinal: Int): ColumnVector = unsupported
}

/** `policy_action_index` and `policy_leaf`: the scorer's int column, shared, not copied. */
private[sparkpolicy] final class IntsVector extends ScoredVector(IntegerType) {
  var values: Array[Int] = Array.emptyIntArray
  override def getInt(rowId: Int): Int = values(rowId)
}

/** `policy_action`: the label of each row's arm. */
private[sparkpolicy] final class ArmLabelVector(vocabulary: Array[String], arms: IntsVector) extends ScoredVector(StringType) {
  private val labels = vocabulary.map(UTF8String.fromString)
  override def getUTF8String(rowId: Int): UTF8String = labels(arms.values(rowId))
}

/** `policy_scores`: each row's leaf's score array, one `ColumnarArray` per leaf. */
private[sparkpolicy] final class LeafScoresVector(table: LeafScores, leaves: IntsVector) extends ScoredVector(PolicyOutputColumns.ScoresType) {
  private val arrays: Array[ColumnarArray] = Array.tabulate(table.size) { leaf =>
    if (table.has(leaf)) new ColumnarArray(new DoublesVector(table.scores(leaf)), 0, table.nArms) else null
  }
  override def getArray(rowId: Int): ColumnarArray = arrays(leaves.values(rowId))
}

/** One leaf's scores, the element data of its `ColumnarArray`. */
private[sparkpolicy] final class DoublesVector(values: Array[Double]) extends ScoredVector(DoubleType) {
  override def getDouble(rowId: Int): Double = values(rowId)
}

/** A forest's `policy_scores` (doubles) or `policy_leaves` (ints): row r's `width` values at `r * width` of one flat array. */
private[sparkpolicy] final class RowListVector(elements: DataType, width: Int) extends ScoredVector(ArrayType(elements, containsNull = false)) {
  var doubles: Array[Double] = Array.emptyDoubleArray
  var ints: Array[Int] = Array.emptyIntArray
  private val data = new ScoredVector(elements) {
    override def getDouble(rowId: Int): Double = doubles(rowId)
    override def getInt(rowId: Int): Int = ints(rowId)
  }
  override def getArray(rowId: Int): ColumnarArray = new ColumnarArray(data, rowId * width, width)
}

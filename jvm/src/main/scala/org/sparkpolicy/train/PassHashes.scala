package org.sparkpolicy.train

import scala.collection.mutable

import org.apache.spark.sql.Column
import org.apache.spark.sql.catalyst.InternalRow
import org.apache.spark.sql.catalyst.expressions.XxHash64Function
import org.apache.spark.sql.types._
import org.apache.spark.unsafe.types.UTF8String
import org.sparkpolicy.contract.{PositionalHash, RewardSpec, RowHash, Signatures}
import org.sparkpolicy.train.TrainingData.userCol

/**
 * The validation pass's row hashes, computed from the pass frame's values in one loop per row instead of
 * as three SQL hashes: the input signature's two hashes (`Signatures.inputHashes`, over
 * `Signatures.inputHashedColumns`) and the boundary sample's (`RowHash.hash(SampleSeed, sampleKey)`).
 * Each value is read from the frame once and mixed as `PositionalHash` mixes it, so the hashes are the
 * SQL's bit for bit (`FitPassesSuite` compares the signatures and boundaries with the SQL's); the two
 * signature hashes advance side by side, so the CPU overlaps their dependency chains. A frame column is
 * shared by every use of the same value (the features, labels and reward columns the checks read).
 */
private[train] final class PassHashes private (signed: Array[Int], signedAsString: Array[Boolean], sampled: Array[Int],
    sampledTypes: Array[DataType], prefix1: Long, prefix2: Long, samplePrefix: Long) extends Serializable {
  private val sampledSteps: Array[Int] = sampledTypes.map(PositionalHash.stepOf)

  /** The signature hashes of the last row passed to [[sign]]. */
  var h1 = 0L
  var h2 = 0L

  def sign(row: InternalRow): Unit = {
    var a = prefix1
    var b = prefix2
    var j = 0
    while (j < signed.length) {
      val i = signed(j)
      val isNull = row.isNullAt(i)
      if (signedAsString(j)) {
        val s = if (isNull) null else row.getUTF8String(i)
        a = PositionalHash.mixObject(s, StringType, a)
        b = PositionalHash.mixObject(s, StringType, b)
      } else {
        val v = if (isNull) 0.0 else row.getDouble(i)
        a = PositionalHash.mixDouble(isNull, v, true, a)
        b = PositionalHash.mixDouble(isNull, v, true, b)
      }
      j += 1
    }
    h1 = a
    h2 = b
  }

  /** The row's boundary-sample hash. */
  def sample(row: InternalRow): Long = {
    var h = samplePrefix
    var j = 0
    while (j < sampled.length) {
      h = PositionalHash.mixAt(row, sampled(j), sampledTypes(j), sampledSteps(j), false, h)
      j += 1
    }
    h
  }
}

private[train] object PassHashes {
  /**
   * The pass frame's columns, each value once: `add` returns the index of the column with that key,
   * appending it the first time. Keys are (form, user column): "double" (cast to double), "string"
   * (cast to string) or "raw" (as it is); a double or string column is its own cast.
   */
  final class Frame(schema: StructType) {
    private val cols = mutable.ArrayBuffer.empty[Column]
    private val index = mutable.HashMap.empty[(String, String), Int]

    def fixed(c: Column): Int = { cols += c; cols.length - 1 }

    def add(form: String, name: String): Int = {
      val key = (schema(name).dataType, form) match {
        case (DoubleType, "raw") => ("double", name)
        case (t, "raw") if t == StringType => ("string", name)
        case _ => (form, name)
      }
      index.getOrElseUpdate(key, {
        cols += (key._1 match {
          case "double" => userCol(name).cast(DoubleType)
          case "string" => userCol(name).cast(StringType)
          case _ => userCol(name)
        })
        cols.length - 1
      })
    }

    def columns: Seq[Column] = cols.toSeq
  }

  /**
   * The hashes' plan over `frame` (their columns added to it): the input signature's columns when
   * `signRows`, the boundary sample's key (`TrainingData.sampleKey`: the row id, else every source column
   * as it is) when `sample`.
   */
  def plan(frame: Frame, schema: StructType, spec: InputSpec, categorical: Array[Boolean], signRows: Boolean,
      sample: Boolean): PassHashes = {
    val signedCols = if (!signRows) Nil else Signatures.inputHashedColumns(spec.featureCols.toSeq, categorical.toSeq, RewardSpec("", spec.treatmentCol, spec.rewardCols.toSeq.flatten, spec.outcomeCol, spec.propensityCol))
    val signed = signedCols.map(c => frame.add(if (c.asString) "string" else "double", c.name)).toArray
    val keys = if (!sample) Nil else TrainingData.sampleKeyNames(spec)
    val sampled = keys.map(frame.add("raw", _)).toArray
    val types = keys.map(k => schema(k).dataType).toArray
    def prefix(salt: String) = XxHash64Function.hash(UTF8String.fromString(salt), StringType, PositionalHash.Seed)
    new PassHashes(signed, signedCols.map(_.asString).toArray, sampled, types, prefix(Signatures.InputPrefixes._1),
      prefix(Signatures.InputPrefixes._2), XxHash64Function.hash(RowHash.SampleSeed, LongType, PositionalHash.Seed))
  }
}

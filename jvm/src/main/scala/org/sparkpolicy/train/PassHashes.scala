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
 * SQL's bit for bit (`FitPassesSuite` compares the signatures and boundaries with the SQL's); rows are
 * hashed in batches, a column at a time, so the CPU overlaps their dependency chains. A frame column is
 * shared by every use of the same value (the features, labels and reward columns the checks read).
 */
private[train] final class PassHashes private (signed: Array[Int], signedAsString: Array[Boolean], sampled: Array[Int],
    sampledTypes: Array[DataType], prefix1: Long, prefix2: Long, samplePrefix: Long) extends Serializable {
  private val sampledSteps: Array[Int] = sampledTypes.map(PositionalHash.stepOf)

  /**
   * The signature hashes of `rows(0 until n)` into `h1` and `h2`, a column at a time: each row's hash is a
   * chain of dependent multiplies, so a row at a time waits on every step, while the rows of one column
   * are independent and overlap.
   */
  def sign(rows: Array[InternalRow], n: Int, h1: Array[Long], h2: Array[Long]): Unit = {
    java.util.Arrays.fill(h1, 0, n, prefix1)
    java.util.Arrays.fill(h2, 0, n, prefix2)
    var j = 0
    while (j < signed.length) {
      val i = signed(j)
      var r = 0
      if (signedAsString(j)) while (r < n) {
        val row = rows(r)
        val s = if (row.isNullAt(i)) null else row.getUTF8String(i)
        h1(r) = PositionalHash.mixObject(s, StringType, h1(r))
        h2(r) = PositionalHash.mixObject(s, StringType, h2(r))
        r += 1
      }
      else while (r < n) {
        val row = rows(r)
        val isNull = row.isNullAt(i)
        val v = if (isNull) 0.0 else row.getDouble(i)
        h1(r) = PositionalHash.mixDouble(isNull, v, true, h1(r))
        h2(r) = PositionalHash.mixDouble(isNull, v, true, h2(r))
        r += 1
      }
      j += 1
    }
  }

  /** The boundary-sample hashes of `rows(0 until n)` into `out`, a column at a time. */
  def sample(rows: Array[InternalRow], n: Int, out: Array[Long]): Unit = {
    java.util.Arrays.fill(out, 0, n, samplePrefix)
    var j = 0
    while (j < sampled.length) {
      val (i, t, step) = (sampled(j), sampledTypes(j), sampledSteps(j))
      var r = 0
      while (r < n) {
        out(r) = PositionalHash.mixAt(rows(r), i, t, step, false, out(r))
        r += 1
      }
      j += 1
    }
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

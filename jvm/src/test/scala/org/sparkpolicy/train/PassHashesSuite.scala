package org.sparkpolicy.train

import org.apache.spark.sql.functions._
import org.scalatest.funsuite.AnyFunSuite
import org.sparkpolicy.SparkTestSession
import org.sparkpolicy.contract.{RewardSpec, RowHash, Signatures}

/**
 * The validation pass's own row hashes (`PassHashes`) against the SQL ones they stand in for — the
 * input signature's two hashes and the boundary sample's — on every column type a fit accepts: double,
 * float, int, long, short and byte features (with NaN, ±0.0, infinities and nulls), string and integer categories, an
 * integer treatment, a decimal outcome, a float propensity, a column in two roles, with and without a row id.
 */
class PassHashesSuite extends AnyFunSuite with SparkTestSession {
  private lazy val data = {
    val s = spark
    import s.implicits._
    Seq[(java.lang.Double, java.lang.Float, java.lang.Integer, java.lang.Long, String, java.lang.Integer, java.lang.Integer, String, java.lang.Float, Long)](
      (1.5, 2.5f, 3, 7L, "a", 1, 0, "1.25", 0.5f, 11L),
      (Double.NaN, Float.NaN, null, null, null, null, 1, null, 0.25f, 12L),
      (-0.0, -0.0f, 0, 0L, "é", 2, 2, "-3.5", null, 13L),
      (0.0, 0.0f, -5, Long.MinValue, "", 1, null, "0", 1.0f, 14L),
      (null, null, Int.MaxValue, Long.MaxValue, "b", 3, 1, "2", 0.75f, 15L),
      (Double.PositiveInfinity, Float.NegativeInfinity, 1, -1L, "a", 2, 0, "1e3", 0.5f, -16L))
      .toDF("d", "f", "i", "l", "s", "c", "t", "y", "p", "id")
      .withColumn("y", col("y").cast("decimal(12,3)"))
      .withColumn("sh", pmod(col("i"), lit(1000)).cast("short")).withColumn("by", pmod(col("i"), lit(100)).cast("byte"))
  }

  private def check(spec: InputSpec, categorical: Array[Boolean]): Unit = {
    val frame = new PassHashes.Frame(data.schema)
    frame.fixed(lit(true))
    val hashes = PassHashes.plan(frame, data.schema, spec, categorical, signRows = true, sample = true)
    // One batch of every row, as the pass hashes them.
    val mine = data.select(frame.columns: _*).queryExecution.toRdd.map(_.copy()).coalesce(1).mapPartitions { it =>
      val rows = it.toArray
      val (h1, h2, s) = (new Array[Long](rows.length), new Array[Long](rows.length), new Array[Long](rows.length))
      hashes.sign(rows, rows.length, h1, h2)
      hashes.sample(rows, rows.length, s)
      Iterator.tabulate(rows.length)(r => (h1(r), h2(r), s(r)))
    }.collect().toSeq
    val (h1, h2) = Signatures.inputHashes(spec.featureCols.toSeq, categorical.toSeq,
      RewardSpec("", spec.treatmentCol, spec.rewardCols.toSeq.flatten, spec.outcomeCol, spec.propensityCol))
    val sqlHashes = data.select(h1, h2, RowHash.hash(RowHash.SampleSeed, TrainingData.sampleKey(spec))).collect()
      .map(r => (r.getLong(0), r.getLong(1), r.getLong(2))).toSeq
    assert(mine == sqlHashes)
    assert(mine.map(_._1).distinct.size == mine.size && mine.map(_._3).distinct.size == mine.size)
  }

  private def spec(features: Array[String], rowId: Option[String], rewardCols: Option[Array[String]] = None) =
    InputSpec(features, Some("t"), rewardCols, Some("y"), Some("p"), None, None, rowId, "error", AipwSettings.defaults(256, 1))

  test("the signature and sample hashes equal the SQL's on every accepted type, and a column in two roles") {
    val features = Array("d", "f", "i", "l", "s", "c", "sh", "by")
    val categorical = Array(false, false, false, false, true, true, false, false)
    check(spec(features, None), categorical)
    check(spec(features, Some("id")), categorical)
    // The treatment as a feature too, and a reward column that is also a feature: one frame column each.
    check(spec(Array("d", "t", "i"), None, Some(Array("d", "i"))), Array(false, true, false))
  }
}

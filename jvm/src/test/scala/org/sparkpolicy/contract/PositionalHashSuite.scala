package org.sparkpolicy.contract

import org.apache.spark.sql.Column
import org.apache.spark.sql.functions._
import org.apache.spark.sql.sparkpolicy.InternalFrames
import org.apache.spark.sql.types.DoubleType
import org.scalatest.funsuite.AnyFunSuite
import org.sparkpolicy.SparkTestSession

/**
 * `PositionalHash` against the SQL it replaced: `xxhash64(prefix, isnull(c), c, …)` with, for the
 * signatures, each double in its canonical `CASE` form. Bit-identical on nulls, NaN, ±0.0, infinities,
 * strings, integers and longs, so every signature and sample drawn before it is unchanged.
 */
class PositionalHashSuite extends AnyFunSuite with SparkTestSession {
  private lazy val session = spark
  import session.implicits._

  private def sqlCanonical(c: Column): Column = {
    val d = c.cast(DoubleType)
    when(isnan(d), lit(null).cast(DoubleType)).when(d === 0.0, lit(0.0)).otherwise(d)
  }
  private def sqlPositional(prefix: Column, cols: Seq[Column]): Column = xxhash64(prefix +: cols.flatMap(c => Seq(c.isNull, c)): _*)

  private lazy val data = Seq[(java.lang.Double, java.lang.Double, String, java.lang.Long, java.lang.Integer)](
    (1.5, -0.0, "a", 7L, 3), (0.0, Double.NaN, null, null, 0), (null, 2.0, "", -1L, null), (Double.NaN, null, "é", 0L, -5),
    (Double.PositiveInfinity, Double.NegativeInfinity, "b", Long.MaxValue, Int.MinValue), (-0.0, 0.0, "a", 7L, 3),
    (null, null, null, null, null)).toDF("d1", "d2", "s", "l", "i")

  test("RowHash.hash equals xxhash64(seed, isnull(k), k, …) on every type and null") {
    val keys = Seq(col("d1"), col("d2"), col("s"), col("l"), col("i"))
    val got = data.select(RowHash.hash(RowHash.SampleSeed, keys).as("new"), sqlPositional(lit(RowHash.SampleSeed), keys).as("old"))
      .as[(Long, Long)].collect()
    assert(got.forall { case (a, b) => a == b }, got.mkString(", "))
    assert(got.map(_._1).distinct.length == got.length, "distinct rows hash apart")
    // The folds and units built on it too.
    val folds = data.select(RowHash.fold(RowHash.FoldSeed, keys, 5).as("f"),
      least(floor(RowHash.unitOf(sqlPositional(lit(RowHash.FoldSeed), keys)) * 5).cast("int"), lit(4)).as("g")).as[(Int, Int)].collect()
    assert(folds.forall { case (a, b) => a == b })
  }

  test("the node form equals the SQL form: plain keys, and canonical doubles beside string labels") {
    val keys = Seq(col("d1"), col("d2"), col("s"), col("l"), col("i"))
    val plain = keys.map(_ -> false)
    val node = PositionalHash.column(lit(RowHash.SampleSeed), plain, sqlUpTo = 0)
    val sql = PositionalHash.column(lit(RowHash.SampleSeed), plain, sqlUpTo = Int.MaxValue)
    assert(InternalFrames.expression(node).isInstanceOf[PositionalHash] && !InternalFrames.expression(sql).isInstanceOf[PositionalHash])
    val got = data.select(node, sql, sqlPositional(lit(RowHash.SampleSeed), keys)).as[(Long, Long, Long)].collect()
    assert(got.forall { case (a, b, c) => a == b && b == c }, got.mkString(", "))
    val canon = Seq(col("d1").cast("double") -> true, col("d2").cast("double") -> true, col("s").cast("string") -> false,
      col("i").cast("double") -> true)
    val expected = sqlPositional(lit("salt"), Seq(sqlCanonical(col("d1")), sqlCanonical(col("d2")), col("s").cast("string"), sqlCanonical(col("i"))))
    val both = data.select(PositionalHash.column(lit("salt"), canon, sqlUpTo = 0), PositionalHash.column(lit("salt"), canon), expected)
      .as[(Long, Long, Long)].collect()
    assert(both.forall { case (a, b, c) => a == b && b == c }, both.mkString(", "))
    assert(both(0)._1 != both(5)._1 && both(1)._1 != both(6)._1)
  }

  test("the signatures' canonical form: NaN as null, -0.0 as 0.0, as the SQL CASE did") {
    val feats = Seq("d1", "d2", "i")
    val names = feats :+ "s"
    val categorical = Seq(false, false, false, true)
    val (h1, h2) = Signatures.inputHashes(names, categorical, RewardSpec("given", None, Seq("d2"), None, None))
    val cols = feats.map(c => sqlCanonical(col(c))) :+ col("s").cast("string")
    val rewardCols = Seq(sqlCanonical(col("d2")))
    val old1 = sqlPositional(lit("sparkpolicy-input-1"), cols ++ rewardCols)
    val old2 = sqlPositional(lit("sparkpolicy-input-2"), cols ++ rewardCols)
    val got = data.select(h1, h2, old1, old2).as[(Long, Long, Long, Long)].collect()
    assert(got.forall { case (a, b, c, d) => a == c && b == d }, got.mkString(", "))
    // Rows 0 and 5 differ only by the sign of a zero in d1 and d2 (and NaN vs -0.0 in d2 of row 1 is not that):
    assert(got(0)._1 != got(5)._1, "1.5 vs -0.0 in d1 still differ")
    val rowKey = data.select(Signatures.rowKey(names, categorical), sqlPositional(lit("sparkpolicy-rowkey-1"), cols)).as[(Long, Long)].collect()
    assert(rowKey.forall { case (a, b) => a == b })
    val zeros = Seq[(Double, Double)]((0.0, 1.0), (-0.0, 1.0)).toDF("a", "b")
    val z = zeros.select(Signatures.rowKey(Seq("a", "b"), Seq(false, false))).as[Long].collect()
    assert(z(0) == z(1), "-0.0 and 0.0 are the same key")
  }

  test("wide rows get one node per hash: a 1,000-feature signature plans as a small expression tree") {
    val names = (0 until 1000).map(j => s"x$j")
    val wide = spark.range(4).select(names.map(n => col("id").cast("double").as(n)): _*)
    val (h1, _) = Signatures.inputHashes(names, names.map(_ => false), RewardSpec("given", None, Nil, None, None))
    val plan = wide.select(h1.as("h")).queryExecution.analyzed
    val nodes = plan.expressions.map(_.collect { case e => e }.size).sum
    // prefix + 1,000 casts of attributes (2 nodes each) + the hash + its alias; the SQL form had ~15 per feature.
    assert(nodes < 2100, s"$nodes expression nodes")
    val old = wide.select(sqlPositional(lit("p"), names.map(n => sqlCanonical(col(n)))).as("h")).queryExecution.analyzed
    assert(old.expressions.map(_.collect { case e => e }.size).sum > 10000)
  }
}

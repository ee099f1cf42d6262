package org.sparkpolicy.contract

import org.apache.spark.sql.Column
import org.apache.spark.sql.catalyst.expressions.codegen.CodeGenerator
import org.apache.spark.sql.execution.WholeStageCodegenExec
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

  /** `body` once with the node's generated code and once with its interpreted `eval`: the two must agree. */
  private def bothPaths[T](body: => T): (T, T) = {
    def under(mode: String): T = {
      val conf = spark.conf
      conf.set("spark.sql.codegen.factoryMode", mode)
      conf.set("spark.sql.codegen.wholeStage", (mode == "CODEGEN_ONLY").toString)
      try body finally { conf.unset("spark.sql.codegen.factoryMode"); conf.unset("spark.sql.codegen.wholeStage") }
    }
    (under("CODEGEN_ONLY"), under("NO_CODEGEN"))
  }

  test("generated code and eval equal the SQL: plain keys on every type, and canonical doubles beside string labels") {
    val keys = Seq(col("d1"), col("d2"), col("s"), col("l"), col("i"), col("f"), col("b"), col("h"), col("t"), col("dec"))
    val typed = data.select(col("*"), col("d1").cast("float").as("f"), (col("i") > 0).as("b"), pmod(col("i"), lit(1000)).cast("short").as("h"),
      pmod(col("l"), lit(1L << 40)).cast("timestamp").as("t"), col("d2").cast("decimal(20,3)").as("dec"))
    val plain = keys.map(_ -> false)
    assert(InternalFrames.expression(PositionalHash.column(lit(RowHash.SampleSeed), plain)).isInstanceOf[PositionalHash])
    val (gen, interpreted) = bothPaths(typed.select(PositionalHash.column(lit(RowHash.SampleSeed), plain),
      sqlPositional(lit(RowHash.SampleSeed), keys)).as[(Long, Long)].collect())
    assert(gen.forall { case (a, b) => a == b }, gen.mkString(", "))
    assert(gen.sameElements(interpreted), interpreted.mkString(", "))
    val canon = Seq(col("d1").cast("double") -> true, col("d2").cast("double") -> true, col("s").cast("string") -> false,
      col("i").cast("double") -> true)
    val expected = sqlPositional(lit("salt"), Seq(sqlCanonical(col("d1")), sqlCanonical(col("d2")), col("s").cast("string"), sqlCanonical(col("i"))))
    val (g2, i2) = bothPaths(data.select(PositionalHash.column(lit("salt"), canon), expected).as[(Long, Long)].collect())
    assert(g2.forall { case (a, b) => a == b } && g2.sameElements(i2), g2.mkString(", "))
    assert(g2(0)._1 != g2(5)._1 && g2(1)._1 != g2(6)._1)
  }

  test("a wide hash compiles to methods the JIT compiles: under 8,000 bytes of bytecode at 60 columns, where the SQL form was not") {
    // HotSpot leaves a method over 8,000 bytes (HugeMethodLimit) to the interpreter. The SQL form's
    // whole-stage code passed that at a few dozen columns: a 1M × 50 fit spent 20 s binning instead of 4.
    val names = (0 until 60).map(j => s"x$j")
    val wide = spark.range(8).select(names.map(n => (col("id") * 0.5).as(n)): _*)
    val (h1, h2) = Signatures.inputHashes(names, names.map(_ => false), RewardSpec("given", None, Nil, None, None))
    val hashed = wide.select(h1.as("h1"), h2.as("h2"), RowHash.hash(RowHash.SampleSeed, names.map(col)).as("s"))
    def largestMethod(df: org.apache.spark.sql.DataFrame): Int = {
      val stages = df.queryExecution.executedPlan.collect { case w: WholeStageCodegenExec => w }
      assert(stages.nonEmpty, df.queryExecution.executedPlan.toString)
      stages.map(stage => CodeGenerator.compile(stage.doCodeGen()._2)._2.maxMethodCodeSize).max
    }
    assert(largestMethod(hashed) < 8000, s"a generated method of ${largestMethod(hashed)} bytes")
    val sql = wide.select(sqlPositional(lit("sparkpolicy-input-1"), names.map(n => sqlCanonical(col(n)))).as("h1"),
      sqlPositional(lit("sparkpolicy-input-2"), names.map(n => sqlCanonical(col(n)))).as("h2"),
      sqlPositional(lit(RowHash.SampleSeed), names.map(col)).as("s"))
    assert(largestMethod(sql) > 8000, "the SQL form this replaced")
    assert(hashed.collect().sameElements(sql.collect()))
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

package org.sparkpolicy.ml

import java.nio.file.Files

import scala.jdk.CollectionConverters._

import org.apache.spark.ml.param.ParamMap
import org.apache.spark.sql.execution.ColumnarToRowExec
import org.apache.spark.sql.execution.vectorized.WritableColumnVector

import org.apache.spark.sql.functions._
import org.scalatest.funsuite.AnyFunSuite
import org.sparkpolicy.SparkTestSession
import org.sparkpolicy.synthetic.PlantedPolicyData
import org.sparkpolicy.ml.model.PolicyOutputColumns
import org.sparkpolicy.score.PolicyScoringExec

/** `transform` on a columnar (Parquet) scan scores the scan's batches directly, with the same results as the row path. */
class ColumnarScoringSuite extends AnyFunSuite with SparkTestSession {
  private val features = PlantedPolicyData.featureNames(4)

  private lazy val parquet = {
    val dir = Files.createTempDirectory("sparkpolicy-columnar").resolve("data").toString
    // Nulls and NaNs in x1 (missing values take the learned side), 6 files of ~1,700 rows.
    PlantedPolicyData.generate(spark, 10000, 4, 6)
      .withColumn("x1", when(col("id") % 97 === 0, lit(null)).when(col("id") % 89 === 0, lit(Double.NaN)).otherwise(col("x1")))
      .select((Seq("id") ++ features ++ Seq("g0", "g1", "g2", "treatment")).map(col): _*)
      .write.parquet(dir)
    spark.read.parquet(dir)
  }

  private lazy val model = new PolicyTreeLearner().setFeatureCols(features).setRewardCols(Array("g0", "g1", "g2"))
    .setMaxDepth(3).fit(parquet)

  private def byId(df: org.apache.spark.sql.DataFrame) =
    df.select("id", PolicyOutputColumns.All: _*).collect().map(r => r.getLong(0) -> r.toSeq.tail).toMap

  /** The scoring node of `df`'s executed plan, and whether it ran columnar. */
  private def scoringNode(df: org.apache.spark.sql.DataFrame): PolicyScoringExec =
    df.queryExecution.executedPlan.collectFirst { case s: PolicyScoringExec => s }.getOrElse(fail(s"no scoring node in\n${df.queryExecution.executedPlan}"))

  test("a Parquet scan of double features is scored columnar; a local relation is not") {
    assert(scoringNode(model.transform(parquet.select(features.map(col): _*))).supportsColumnar)
    assert(scoringNode(model.transform(parquet)).supportsColumnar)
    assert(!scoringNode(model.transform(spark.createDataFrame(parquet.collect().toSeq.asJava, parquet.schema))).supportsColumnar)
    val plan = model.transform(parquet).queryExecution.executedPlan.toString
    assert(plan.contains("ColumnarToRow\n+- PolicyScoring [x0#") && !plan.contains("!"), plan)
  }

  test("columnar scores equal the row path's and the SQL backend's, bit for bit, with batches split in chunks") {
    val local = spark.createDataFrame(parquet.collect().toSeq.asJava, parquet.schema)
    Seq(4096, 1000, 7).foreach { batch =>
      val m = model.copy(ParamMap(model.scoringBatchSize -> batch))
      val columnar = m.transform(parquet)
      assert(byId(columnar) == byId(m.transform(local)), s"batch $batch")
      assert(m.outputSignatureOfScored(columnar) == m.outputSignatureOfScored(m.transformWithSql(parquet)), s"batch $batch")
    }
    val missing = model.transform(parquet).where(col("x1").isNull || isnan(col("x1"))).count()
    assert(missing == parquet.where(col("x1").isNull || isnan(col("x1"))).count() && missing > 100)
  }

  test("dictionary-encoded Parquet doubles are scored from their values, not the vector's raw array") {
    // Two decimals: 101 distinct values per column, so Parquet writes dictionary pages and the
    // vectorized reader hands over dictionary ids instead of filling the double array.
    val dir = Files.createTempDirectory("sparkpolicy-dictionary").resolve("data").toString
    PlantedPolicyData.generate(spark, 20000, 4, 3).select((Seq(col("id")) ++ features.map(f => round(col(f), 2).as(f)) ++
      Seq("g0", "g1", "g2").map(col)): _*).write.parquet(dir)
    val rounded = spark.read.parquet(dir)
    val scan = rounded.select(features.head).queryExecution.executedPlan.collectFirst { case c: ColumnarToRowExec => c.child }.get
    val dictionaryBatches = scan.executeColumnar().map(_.column(0).asInstanceOf[WritableColumnVector].hasDictionary).collect()
    assert(dictionaryBatches.nonEmpty && dictionaryBatches.forall(identity), "the reader should hand over dictionary-encoded vectors")
    val m = new PolicyTreeLearner().setFeatureCols(features).setRewardCols(Array("g0", "g1", "g2")).setMaxDepth(3).fit(rounded)
    val scored = m.transform(rounded)
    assert(scoringNode(scored).supportsColumnar)
    assert(byId(scored) == byId(m.transformWithSql(rounded)))
  }
}

package org.sparkpolicy.ml

import java.nio.file.Files

import scala.jdk.CollectionConverters._

import org.apache.spark.ml.param.ParamMap
import org.apache.spark.sql.{DataFrame, Row}
import org.apache.spark.sql.functions._
import org.scalatest.funsuite.AnyFunSuite
import org.sparkpolicy.SparkTestSession
import org.sparkpolicy.ml.model.{ForestVote, PolicyOutputColumns}
import org.sparkpolicy.score.PolicyScoringExec
import org.sparkpolicy.synthetic.PlantedPolicyData

/**
 * Native forest scoring in the plan node: columnar (Parquet) and row paths, streaming and categorical
 * inputs all give, bit for bit, the forest's definition (`ForestVote` over each tree's direct walk).
 */
class ForestScoringSuite extends AnyFunSuite with SparkTestSession {
  private val features = PlantedPolicyData.featureNames(4)
  private val outputs = PolicyOutputColumns.ForestAll

  private lazy val parquet = {
    val dir = Files.createTempDirectory("sparkpolicy-forest-scoring").resolve("data").toString
    // Nulls and NaNs in x1 (missing values take each split's learned side), 5 files.
    PlantedPolicyData.generate(spark, 8000, 4, 5)
      .withColumn("x1", when(col("id") % 97 === 0, lit(null)).when(col("id") % 89 === 0, lit(Double.NaN)).otherwise(col("x1")))
      .select((Seq("id") ++ features ++ Seq("g0", "g1", "g2")).map(col): _*)
      .write.parquet(dir)
    spark.read.parquet(dir)
  }

  private lazy val model = new PolicyForestLearner().setFeatureCols(features).setRewardCols(Array("g0", "g1", "g2"))
    .setNumTrees(9).setMaxDepth(3).setFeatureSubsetStrategy("2").fit(parquet)

  private def byId(df: DataFrame): Map[Long, Seq[Any]] =
    df.select("id", outputs: _*).collect().map(r => r.getLong(0) -> r.toSeq.tail).toMap

  /** The definition: each tree walked in the JVM, `ForestVote` over their leaves. */
  private def expected(m: PolicyForestModel, x: Int => Double): Seq[Any] = {
    val trees = m.nodeTables.toIndexedSeq
    val leaves = trees.map(_.leafOf(x))
    val scores = ForestVote.scores(trees, leaves)
    val action = ForestVote.action(scores)
    Seq(m.getTreatmentVocabulary(action), action, scores.toSeq, leaves.map(_.id))
  }

  private def value(r: Row, i: Int): Double = if (r.isNullAt(i)) Double.NaN else r.getDouble(i)

  private def scoringNode(df: DataFrame): PolicyScoringExec =
    df.queryExecution.executedPlan.collectFirst { case s: PolicyScoringExec => s }.getOrElse(fail(s"no scoring node in\n${df.queryExecution.executedPlan}"))

  test("a Parquet scan is scored columnar in the plan node; a local relation by rows; both equal the definition") {
    val local = spark.createDataFrame(parquet.collect().toSeq.asJava, parquet.schema)
    assert(scoringNode(model.transform(parquet)).supportsColumnar && !scoringNode(model.transform(local)).supportsColumnar)
    val rows = parquet.select(("id" +: features).map(col): _*).collect()
    val definition = rows.map(r => r.getLong(0) -> expected(model, f => value(r, f + 1))).toMap
    Seq(4096, 1000, 7).foreach { batch =>
      val m = model.copy(ParamMap(model.scoringBatchSize -> batch))
      assert(byId(m.transform(parquet)) == definition, s"columnar, batch $batch")
      assert(byId(m.transform(local)) == definition, s"rows, batch $batch")
    }
    // The SQL backend: the same values, no native code.
    assert(byId(model.transformWithSql(parquet)) == definition)
    assert(model.outputSignatureOfScored(model.transformWithSql(parquet)) == model.outputSignature(parquet))
    val leaves = model.transform(parquet).select(PolicyOutputColumns.Leaves).head().getSeq[Int](0)
    assert(leaves.length == 9 && model.transform(parquet).schema(PolicyOutputColumns.Leaves).dataType == PolicyOutputColumns.LeavesType)
  }

  test("a query that does not read policy_leaves scores without them, columnar and by rows, with the same other columns") {
    val local = spark.createDataFrame(parquet.collect().toSeq.asJava, parquet.schema)
    val three = outputs.take(3)
    // The plan before adaptive execution wraps it (an aggregate's plan is adaptive).
    def scoringNode(df: DataFrame): PolicyScoringExec =
      df.queryExecution.sparkPlan.collectFirst { case s: PolicyScoringExec => s }.getOrElse(fail(s"no scoring node in\n${df.queryExecution.sparkPlan}"))
    Seq(parquet, local).foreach { input =>
      val full = model.transform(input)
      val want = full.select("id", three: _*).collect().map(r => r.getLong(0) -> r.toSeq.tail).toMap
      Seq(full.drop(PolicyOutputColumns.Leaves), full.select("id", three: _*),
        full.groupBy(PolicyOutputColumns.Action).count(), full.where(col(PolicyOutputColumns.ActionIndex) > 0).select("id")).foreach { q =>
        assert(!scoringNode(q).withLeaves && !scoringNode(q).output.exists(_.name == PolicyOutputColumns.Leaves), q.queryExecution.executedPlan)
      }
      assert(full.drop(PolicyOutputColumns.Leaves).select("id", three: _*).collect().map(r => r.getLong(0) -> r.toSeq.tail).toMap == want)
      assert(full.groupBy(PolicyOutputColumns.Action).count().collect().map(r => r.getString(0) -> r.getLong(1)).toMap ==
        want.values.groupBy(_.head.asInstanceOf[String]).map { case (a, v) => a -> v.size.toLong })
      // Reading the leaves keeps them, alone or with the rest; the tree's own leaf column is never dropped.
      Seq(full, full.select(PolicyOutputColumns.Leaves), full.where(size(col(PolicyOutputColumns.Leaves)) === 9)).foreach { q =>
        assert(scoringNode(q).withLeaves, q.queryExecution.executedPlan)
      }
      assert(full.select("id", PolicyOutputColumns.Leaves).collect().forall(_.getSeq[Int](1).length == 9))
    }
  }

  test("a forest past the SQL expression's size limit is an error naming the limit and the Params") {
    val big = new PolicyForestLearner().setFeatureCols(features).setRewardCols(Array("g0", "g1", "g2"))
      .setNumTrees(3).setMaxDepth(1).fit(parquet)
    val nodes = big.nodeTables.map(_.nodes.size).sum
    val tables = Seq.fill(org.sparkpolicy.score.SqlExpression.MaxForestNodes / nodes + 1)(big.nodeTables).flatten
    val e = intercept[IllegalArgumentException](org.sparkpolicy.score.SqlExpression.forest(tables, features, Seq("a", "b", "c")))
    assert(e.getMessage.contains(s"limited to ${org.sparkpolicy.score.SqlExpression.MaxForestNodes}") &&
      e.getMessage.contains("numTrees") && e.getMessage.contains("transform"), e.getMessage)
  }

  test("a forest reads only the features its trees split on") {
    val narrow = new PolicyForestLearner().setFeatureCols(features).setRewardCols(Array("g0", "g1", "g2"))
      .setNumTrees(3).setMaxDepth(1).setHonest(false).setSubsamplingRate(1.0).fit(parquet)
    val read = narrow.nodeTables.flatMap(_.splitFeatures).distinct
    assert(read.size < features.length, narrow.toDebugString)
    assert(scoringNode(narrow.transform(parquet)).features.map(_.name) == read.sorted.map(features(_)))
    val rows = parquet.select(("id" +: features).map(col): _*).collect()
    assert(byId(narrow.transform(parquet)) == rows.map(r => r.getLong(0) -> expected(narrow, f => value(r, f + 1))).toMap)
  }

  test("categorical features: labels coded as in training, unseen and null as missing, on batch and streaming paths") {
    val labels = Seq("a", "b", "c")
    val data = spark.range(6000).select(col("id"), ((col("id") * 7919L) % 1000L / 1000.0).as("x"),
      when(col("id") % 13 === 0, lit(null).cast("string"))
        .otherwise(element_at(typedLit(labels), ((col("id") * 31L) % 3L + 1L).cast("int"))).as("region"))
      .withColumn("g0", lit(0.5) + (col("id") % 7L) / 1000.0)
      .withColumn("g1", when(col("region") === "b", 1.0).when(col("x") > 0.7, 0.8).otherwise(0.0))
    val m = new PolicyForestLearner().setFeatureCols(Array("x", "region")).setCategoricalCols(Array("region"))
      .setRewardCols(Array("g0", "g1")).setNumTrees(5).setMaxDepth(2).fit(data)
    val codes = labels.zipWithIndex.toMap
    val dir = Files.createTempDirectory("sparkpolicy-forest-cat").resolve("in").toString
    data.select("id", "x", "region").unionByName(spark.range(6000, 6020).select(col("id"), lit(0.5).as("x"), lit("zzz").as("region")))
      .repartition(3).write.parquet(dir)
    val test = spark.read.parquet(dir)
    val definition = test.collect().map { r =>
      val region = if (r.isNullAt(2)) Double.NaN else codes.get(r.getString(2)).map(_.toDouble).getOrElse(Double.NaN)
      r.getLong(0) -> expected(m, f => if (f == 0) r.getDouble(1) else region)
    }.toMap
    assert(byId(m.transform(test)) == definition)
    assert(m.unseenCategoryCount == 20)
    assert(byId(m.transformWithSql(test)) == definition)
    val stream = spark.readStream.schema(test.schema).parquet(dir)
    val query = m.transform(stream).writeStream.format("memory").queryName("scored_forest")
      .trigger(org.apache.spark.sql.streaming.Trigger.AvailableNow()).start()
    query.awaitTermination()
    assert(byId(spark.table("scored_forest")) == definition)
  }
}

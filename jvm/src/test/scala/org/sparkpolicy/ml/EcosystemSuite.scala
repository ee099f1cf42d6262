package org.sparkpolicy.ml

import java.nio.file.Files

import org.apache.spark.ml.{Pipeline, PipelineModel}
import org.apache.spark.ml.feature.Imputer
import org.apache.spark.sql.functions._
import org.apache.spark.sql.streaming.Trigger
import org.scalatest.funsuite.AnyFunSuite
import org.sparkpolicy.{JavaPolicyExample, SparkTestSession}
import org.sparkpolicy.synthetic.PlantedPolicyData

/** How users meet the toolkit through Spark's conventions: Java, Pipelines, Structured Streaming. */
class EcosystemSuite extends AnyFunSuite with SparkTestSession {

  test("the Java example compiles, runs and recovers the planted policy on most rows") {
    val path = Files.createTempDirectory("sparkpolicy-java").resolve("model").toString
    val agree = JavaPolicyExample.run(spark, path)
    assert(agree >= 29000, s"only $agree of 30000 rows follow the planted policy")
  }

  test("the learner works as a Pipeline stage after Imputer, and the PipelineModel saves and loads") {
    val data = PlantedPolicyData.generate(spark, 20000, 4, 4)
      .withColumn("x1", when(col("x3") < 0.05, lit(null).cast("double")).otherwise(col("x1")))
    val imputer = new Imputer().setInputCols(Array("x1")).setOutputCols(Array("x1_imputed"))
    val learner = new PolicyTreeLearner().setFeatureCols(Array("x0", "x1_imputed", "x2", "x3"))
      .setRewardCols(Array("g0", "g1", "g2")).setMaxDepth(2)
    val fitted = new Pipeline().setStages(Array(imputer, learner)).fit(data)
    val path = Files.createTempDirectory("sparkpolicy-pipeline").resolve("pipeline").toString
    fitted.write.save(path)
    val loaded = PipelineModel.load(path)
    val cols = Seq("id", "policy_action_index", "policy_scores", "policy_leaf").map(col)
    val a = fitted.transform(data).select(cols: _*).orderBy("id").collect()
    val b = loaded.transform(data).select(cols: _*).orderBy("id").collect()
    assert(a.toSeq == b.toSeq)
    assert(loaded.stages.last.asInstanceOf[PolicyTreeModel].signatures == fitted.stages.last.asInstanceOf[PolicyTreeModel].signatures)
  }

  test("transform scores a Structured Streaming DataFrame micro-batch by micro-batch, equal to batch scoring") {
    val data = PlantedPolicyData.generate(spark, 12000, 4, 4)
    val model = new PolicyTreeLearner().setFeatureCols(PlantedPolicyData.featureNames(4))
      .setRewardCols(Array("g0", "g1", "g2")).setMaxDepth(2).fit(data)
    val dir = Files.createTempDirectory("sparkpolicy-stream").resolve("in").toString
    data.select("id", "x0", "x1", "x2", "x3").repartition(6).write.parquet(dir)
    val stream = spark.readStream.schema(spark.read.parquet(dir).schema).option("maxFilesPerTrigger", 2).parquet(dir)
    val query = model.transform(stream).writeStream.format("memory").queryName("scored_stream")
      .trigger(Trigger.AvailableNow()).start()
    query.awaitTermination()
    assert(query.recentProgress.count(_.numInputRows > 0) >= 3, "several micro-batches")
    val cols = Seq("id", "policy_action", "policy_action_index", "policy_scores", "policy_leaf")
    val streamed = spark.table("scored_stream").select(cols.map(col): _*).orderBy("id").collect()
    val batch = model.transform(spark.read.parquet(dir)).select(cols.map(col): _*).orderBy("id").collect()
    assert(streamed.length == 12000)
    assert(streamed.toSeq == batch.toSeq)
  }
}

package org.sparkpolicy.experiments

import java.nio.file.{Files, Paths}

import org.apache.spark.sql.functions.col
import org.sparkpolicy.{SparkTestSession, TestData}
import org.sparkpolicy.ml.PolicyTreeLearner

/**
 * Writes tests/fixtures/models/policytree-depth2-v1: a model saved by this version (format 1) on the
 * policytree fixture data, plus its per-row outputs, which FixtureModelSuite checks forever after.
 * Run once per format version from the repository root (see tests/fixtures/models/README.md).
 */
object WriteFixtureModel {
  def main(args: Array[String]): Unit = {
    val spark = SparkTestSession.builder("local[2]").getOrCreate()
    try {
      val data = spark.read.option("header", "true").option("inferSchema", "true")
        .csv(TestData.fixture("policytree", "testcase_n2000_p5.csv").toString)
      val model = new PolicyTreeLearner().setFeatureCols(Array("x0", "x1", "x2", "x3", "x4"))
        .setRewardCols(Array("g0", "g1", "g2")).setMaxBins(32).setMaxDepth(2).fit(data)
      val out = Paths.get("tests", "fixtures", "models", "policytree-depth2-v1")
      Files.createDirectories(out.getParent)
      model.write.overwrite().save(out.resolve("model").toString)
      val rows = model.transform(data).select(col("policy_action_index"), col("policy_leaf")).collect()
      Files.writeString(out.resolve("expected_outputs.csv"),
        ("policy_action_index,policy_leaf" +: rows.map(r => s"${r.getInt(0)},${r.getInt(1)}")).mkString("\n") + "\n")
      println(model.toDebugString)
    } finally spark.stop()
  }
}

package org.sparkpolicy.experiments

import java.nio.file.{Files, Paths}

import org.apache.spark.sql.functions.col
import org.sparkpolicy.{SparkTestSession, TestData}
import org.sparkpolicy.ml.{PolicyForestLearner, PolicyTreeLearner}

/**
 * Writes a saved-model fixture on the policytree fixture data, plus its per-row outputs, which
 * FixtureModelSuite checks forever after: `tree` (default) writes policytree-depth2-v1 (tree format 1),
 * `forest` writes policyforest-v1 (forest format 1). Run once per format version from the repository root
 * (see tests/fixtures/models/README.md); never over an existing fixture.
 */
object WriteFixtureModel {
  def main(args: Array[String]): Unit = if (args.headOption.contains("forest")) forest() else tree()

  private def forest(): Unit = {
    val spark = SparkTestSession.builder("local[2]").getOrCreate()
    try {
      val data = spark.read.option("header", "true").option("inferSchema", "true")
        .csv(TestData.fixture("policytree", "testcase_n2000_p5.csv").toString)
      val model = new PolicyForestLearner().setFeatureCols(Array("x0", "x1", "x2", "x3", "x4"))
        .setRewardCols(Array("g0", "g1", "g2")).setMaxBins(32).setMaxDepth(2).setNumTrees(5).setFeatureSubsetStrategy("3").fit(data)
      val out = Paths.get("tests", "fixtures", "models", "policyforest-v1")
      require(!Files.exists(out), s"$out exists: a fixture is never regenerated")
      model.write.save(out.resolve("model").toString)
      val rows = model.transform(data).select(col("policy_action_index"), col("policy_leaves")).collect()
      Files.writeString(out.resolve("expected_outputs.csv"), ("policy_action_index,policy_leaves" +:
        rows.map(r => s"${r.getInt(0)},${r.getSeq[Int](1).mkString(";")}")).mkString("\n") + "\n")
      println(model.toDebugString)
    } finally spark.stop()
  }

  private def tree(): Unit = {
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

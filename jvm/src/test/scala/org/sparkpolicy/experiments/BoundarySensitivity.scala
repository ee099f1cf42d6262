package org.sparkpolicy.experiments

import org.apache.spark.sql.{DataFrame, SparkSession}
import org.apache.spark.sql.functions._
import org.sparkpolicy.{SparkTestSession, TestData}
import org.sparkpolicy.synthetic.PlantedPolicyData
import org.sparkpolicy.ml.{PolicyTreeLearner, PolicyTreeModel}
import org.sparkpolicy.ml.model.PolicyOutputColumns

/**
 * Produces the quantile-boundary sensitivity tables of docs/contract.md: how the learned policy and
 * its holdout value move with maxBins and with approx vs exact boundaries, and whether the approx
 * strategy's signatures drift under repartition(7). Run: see docs/contract.md.
 */
object BoundarySensitivity {
  private val Bins = Seq(8, 16, 32, 64, 128, 256)

  def main(args: Array[String]): Unit = {
    val spark = SparkTestSession.builder("local[2]").getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    val only = args.headOption // "synthetic" or "hillstrom" runs one table
    try {
      if (!only.contains("hillstrom")) {
      val synthetic = PlantedPolicyData.generate(spark, 200000, 10, numPartitions = 4).cache()
      table(spark, "Synthetic (200,000 rows, 10 features, planted depth-2 policy, IPW rewards, depth 3; value = true mean reward on the 20% holdout)",
        synthetic.where(!col("holdout")), synthetic.where(col("holdout")),
        new PolicyTreeLearner().setFeatureCols(PlantedPolicyData.featureNames(10)).setTreatmentCol("treatment")
          .setOutcomeCol("outcome").setPropensityCol("propensity").setRewardType("ipw").setMaxDepth(3),
        (m, h) => PlantedPolicyData.trueValue(m.transform(h), PolicyOutputColumns.ActionIndex))
      }
      if (!only.contains("synthetic")) {

      val hill = TestData.hillstrom(spark)
        .withColumn("split", pmod(xxhash64(col("recency"), col("history"), col("mens"), col("womens"), col("newbie"),
          col("zip_code"), col("channel"), col("segment"), col("visit"), col("spend")), lit(10)))
        .cache()
      val arms = Seq("Mens E-Mail", "No E-Mail", "Womens E-Mail")
      table(spark, "Hillstrom (spend, IPW with design shares, depth 2, 70/30 content-hash split; value = IPW estimate of mean spend on the holdout)",
        hill.where(col("split") < 7), hill.where(col("split") >= 7),
        new PolicyTreeLearner().setFeatureCols(TestData.HillstromFeatures).setTreatmentCol("segment").setOutcomeCol("spend").setRewardType("ipw").setMaxDepth(2),
        (m, h) => ipwValue(m.transform(h), arms))
      }
    } finally spark.stop()
  }

  /** IPW estimate of a policy's value: mean over rows of 1{W = π(X)}·Y / share(W). */
  private def ipwValue(scored: DataFrame, arms: Seq[String]): Double = {
    val n = scored.count().toDouble
    val shares = scored.groupBy("segment").count().collect().map(r => r.getString(0) -> r.getLong(1) / n).toMap
    val share = arms.foldLeft(lit(0.0)) { case (acc, a) => when(col("segment") === a, lit(shares(a))).otherwise(acc) }
    scored.select(avg(when(col("segment") === col(PolicyOutputColumns.Action), col("spend") / share).otherwise(0.0))).head().getDouble(0)
  }

  private def table(spark: SparkSession, title: String, train: DataFrame, holdout: DataFrame, base: PolicyTreeLearner,
      value: (PolicyTreeModel, DataFrame) => Double): Unit = {
    println(s"\n#### $title\n")
    println("| maxBins | boundaries | root split | leaves (arms) | holdout value | model signature | same model after repartition(7)? |")
    println("| --- | --- | --- | --- | --- | --- | --- |")
    for (bins <- Bins; strategy <- Seq("exact", "approx")) {
      val learner = base.copy(org.apache.spark.ml.param.ParamMap.empty).setMaxBins(bins).setBoundaryStrategy(strategy)
      val m = learner.fit(train)
      val again = learner.fit(train.repartition(7))
      val root = m.nodeTable.root
      val rootText = if (root.isLeaf) "none" else f"${m.contract.featureNames(root.feature)} <= ${root.threshold}%.4g"
      val leaves = m.nodeTable.leaves.map(l => m.getTreatmentVocabulary(l.arm)).mkString(", ")
      val same = if (again.signatures == m.signatures) "yes" else
        s"**no** (model ${if (again.modelHash == m.modelHash) "same" else "differs"}, boundaries " +
          s"${if (again.signatures.get("boundaries") == m.signatures.get("boundaries")) "same" else "differ"})"
      println(f"| $bins | $strategy | $rootText | $leaves | ${value(m, holdout)}%.4f | ${m.modelHash.take(12)} | $same |")
    }
  }
}

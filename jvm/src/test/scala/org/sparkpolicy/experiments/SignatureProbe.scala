package org.sparkpolicy.experiments

import org.apache.spark.sql.functions.{col, sum, xxhash64}
import org.sparkpolicy.{SparkTestSession, TestData}
import org.sparkpolicy.ml.{DoublyRobustScores, PolicyTreeLearner}

/**
 * Prints the six signatures of six fits (given Γ with missing values, the same with a boundary sample
 * smaller than the data, IPW dropping rows, Hillstrom IPW with categorical features, Hillstrom AIPW, AIPW
 * with locked boundaries) and a hash of `DoublyRobustScores`' Γ, using
 * only the public API, so two builds of the toolkit can be compared on the same data (a refactor must
 * leave every line unchanged). Run: `java -cp <test classpath> org.sparkpolicy.experiments.SignatureProbe`.
 */
object SignatureProbe {
  def main(args: Array[String]): Unit = {
    val spark = SparkTestSession.builder("local[2]").getOrCreate()
    try {
      val synthetic = TestData.syntheticWithMissing(spark, 20000L)
      val hill = TestData.hillstrom(spark)
      val features = TestData.HillstromFeatures ++ Array("zip_code", "channel")
      def show(name: String, l: PolicyTreeLearner, df: org.apache.spark.sql.DataFrame): Unit = {
        val m = l.fit(df)
        val sigs = scala.jdk.CollectionConverters.MapHasAsScala(m.signatures).asScala.toSeq.sortBy(_._1)
        sigs.foreach { case (k, v) => println(s"$name $k $v") }
      }
      show("given", new PolicyTreeLearner().setFeatureCols((0 until 6).map(i => s"x$i").toArray)
        .setRewardCols(Array("g0", "g1", "g2")).setMaxDepth(3), synthetic)
      // A boundary sample smaller than the data (rate < 1), and IPW dropping rows with a missing outcome (handleInvalid = skip).
      show("given-sampled", new PolicyTreeLearner().setFeatureCols((0 until 6).map(i => s"x$i").toArray)
        .setRewardCols(Array("g0", "g1", "g2")).setMaxDepth(3).setBoundarySampleSize(5000), synthetic)
      show("ipw-skip", new PolicyTreeLearner().setFeatureCols((0 until 6).map(i => s"x$i").toArray).setTreatmentCol("treatment")
        .setOutcomeCol("outcome").setRewardType("ipw").setHandleInvalid("skip").setMaxDepth(2),
        synthetic.withColumn("outcome", org.apache.spark.sql.functions.when(col("x3") < 0.05, null).otherwise(col("outcome"))))
      show("ipw", new PolicyTreeLearner().setFeatureCols(features).setTreatmentCol("segment").setOutcomeCol("spend")
        .setRewardType("ipw").setMaxDepth(2), hill)
      show("aipw", new PolicyTreeLearner().setFeatureCols(TestData.HillstromFeatures).setTreatmentCol("segment")
        .setOutcomeCol("spend").setMaxDepth(2), hill)
      show("aipw-locked", new PolicyTreeLearner().setFeatureCols(Array("recency", "history")).setTreatmentCol("segment")
        .setOutcomeCol("visit").setBoundaries(Array(Array(2.0, 4.0, 8.0), Array(50.0, 200.0, 800.0))).setMaxDepth(2), hill)
      val gamma = new DoublyRobustScores().setFeatureCols(features).setTreatmentCol("segment").setOutcomeCol("spend").transform(hill)
      val h = gamma.select(sum(xxhash64(col("rewards")).cast("decimal(38,0)"))).head().get(0)
      println(s"drs gamma-hash $h")
    } finally spark.stop()
  }
}

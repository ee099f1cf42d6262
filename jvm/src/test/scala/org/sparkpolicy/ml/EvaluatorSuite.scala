package org.sparkpolicy.ml

import org.apache.spark.ml.evaluation.Evaluator
import org.apache.spark.ml.tuning.{CrossValidator, ParamGridBuilder}
import org.apache.spark.sql.DataFrame
import org.apache.spark.sql.functions._
import org.scalatest.funsuite.AnyFunSuite
import org.sparkpolicy.SparkTestSession
import org.sparkpolicy.synthetic.PlantedPolicyData

/** Policy value with standard errors, exact under any layout, and its use in CrossValidator with hash folds. */
class EvaluatorSuite extends AnyFunSuite with SparkTestSession {
  private lazy val data = PlantedPolicyData.generate(spark, 30000, 5, 4).cache()
  private lazy val (train, holdout) = HashSplit.trainTestSplit(data, 0.7, Seq("id"))
  private lazy val model = new PolicyTreeLearner().setFeatureCols(PlantedPolicyData.featureNames(5))
    .setRewardCols(Array("g0", "g1", "g2")).setTreatmentVocabulary(PlantedPolicyData.Arms.toArray).setMaxDepth(2).fit(train)
  private def evaluator = new PolicyValueEvaluator().setRewardCols(Array("g0", "g1", "g2")).setModel(model).setBaselineArm("arm0")

  test("value, standard error and paired differences equal a direct computation on the rows") {
    val scored = model.transform(holdout).cache()
    val rows = scored.select("policy_action_index", "g0", "g1", "g2").collect()
    val n = rows.length
    def stats(xs: Seq[Double]) = {
      val mean = xs.sum / n
      (mean, math.sqrt(xs.map(x => (x - mean) * (x - mean)).sum / (n - 1) / n))
    }
    val policy = rows.map(r => r.getDouble(1 + r.getInt(0))).toSeq
    val always0 = rows.map(_.getDouble(1)).toSeq
    val s = evaluator.summary(scored).collect().map(r => r.getString(0) -> (r.getDouble(1), r.getDouble(2), r.getLong(5))).toMap
    def close(a: (Double, Double), b: (Double, Double)) =
      assert(math.abs(a._1 - b._1) < 1e-9 && math.abs(a._2 - b._2) < 1e-9 * math.max(1, b._2), s"$a vs $b")
    close((s("policy")._1, s("policy")._2), stats(policy))
    close((s("always arm0")._1, s("always arm0")._2), stats(always0))
    close((s("policy - best arm (arm0)")._1, s("policy - best arm (arm0)")._2), stats(policy.zip(always0).map { case (a, b) => a - b }))
    assert(s("policy")._3 == n)
    assert(model.bestArmOnTraining == "arm0")
    assert(evaluator.evaluate(scored) == s("policy")._1)
    assert(evaluator.setMetricName("gainOverBestArm").evaluate(scored) > 0.4)
    assert(evaluator.setMetricName("gainOverBaseline").evaluate(scored) == s("policy - baseline (arm0)")._1)
  }

  test("the same holdout in any layout gives bit-identical results") {
    val scored = model.transform(holdout)
    val reference = evaluator.summary(scored).collect().toSeq
    Seq(scored.repartition(7), scored.coalesce(1), scored.orderBy(rand(3)), scored.repartition(50)).foreach { layout =>
      assert(evaluator.summary(layout).collect().toSeq == reference)
    }
  }

  test("the best arm must come from training, not the holdout") {
    val e = intercept[IllegalArgumentException](
      new PolicyValueEvaluator().setRewardCols(Array("g0", "g1", "g2")).setMetricName("gainOverBestArm").evaluate(model.transform(holdout)))
    assert(e.getMessage.contains("winner's curse"), e.getMessage)
  }

  test("an array rewards column works like separate reward columns") {
    val scored = model.transform(holdout).withColumn("gamma", array(col("g0"), col("g1"), col("g2")))
    val viaArray = new PolicyValueEvaluator().setRewardsCol("gamma").evaluate(scored)
    assert(viaArray == new PolicyValueEvaluator().setRewardCols(Array("g0", "g1", "g2")).evaluate(scored))
  }

  test("hash splits and folds do not depend on the layout") {
    val (a, _) = HashSplit.trainTestSplit(data.repartition(9), 0.7, Seq("id"))
    assert(a.select("id").orderBy("id").collect().toSeq == train.select("id").orderBy("id").collect().toSeq)
    val folds = HashSplit.withFoldColumn(data, 3, keyCols = Seq("id")).groupBy("fold").count().orderBy("fold").collect()
    assert(folds.map(_.getInt(0)).toSeq == Seq(0, 1, 2) && folds.forall(r => math.abs(r.getLong(1) - 10000) < 500))
  }

  test("CrossValidator with hash folds tunes maxDepth and minNodeSize, identically in any layout") {
    val folded = HashSplit.withFoldColumn(data.drop("holdout"), 3, keyCols = Seq("id"))
    val learner = new PolicyTreeLearner().setFeatureCols(PlantedPolicyData.featureNames(5)).setRewardCols(Array("g0", "g1", "g2"))
    val grid = new ParamGridBuilder().addGrid(learner.maxDepth, Array(1, 2)).addGrid(learner.minNodeSize, Array(1, 5000)).build()
    def cv(df: DataFrame) = new CrossValidator().setEstimator(learner).setEstimatorParamMaps(grid).setFoldCol("fold")
      .setEvaluator(new PolicyValueEvaluator().setRewardCols(Array("g0", "g1", "g2")): Evaluator).fit(df)
    val a = cv(folded)
    val best = a.bestModel.asInstanceOf[PolicyTreeModel]
    assert(best.getMaxDepth == 2 && best.getMinNodeSize == 1, a.avgMetrics.mkString(", "))
    assert(cv(folded.repartition(6)).avgMetrics.toSeq == a.avgMetrics.toSeq)
  }
}

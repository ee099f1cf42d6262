package org.sparkpolicy.ml

import org.apache.spark.sql.DataFrame
import org.apache.spark.sql.functions._
import org.scalatest.funsuite.AnyFunSuite
import org.sparkpolicy.SparkTestSession

/**
 * Exact thresholds by default (docs/contract.md, "Exact thresholds"): a planted threshold that falls
 * between the default 64-bin grid's edges is recovered exactly — on the largest training value at or
 * below it when the sample holds every row, and within the gap between the two sample values around it
 * when it does not — while `thresholdSearch = "binned"` lands on a grid edge.
 */
class ExactThresholdSuite extends AnyFunSuite with SparkTestSession {
  /** Inside the 11th of 64 quantile bins of U(0, 1), far from both of its edges. */
  private val planted = 10.5 / 64

  /** x0 ~ U(0, 1) (distinct values), x1 noise; arm 1 pays 1 exactly when x0 <= planted, arm 0 otherwise. */
  private def data(n: Int, partitions: Int): DataFrame =
    spark.range(n).repartition(partitions)
      .select(
        (abs(xxhash64(col("id"), lit("x0"))) % 1000000007L / 1000000007.0).as("x0"),
        (abs(xxhash64(col("id"), lit("x1"))) % 1000003L / 1000003.0).as("x1"))
      .withColumn("g1", when(col("x0") <= planted, 1.0).otherwise(0.0))
      .withColumn("g0", lit(1.0) - col("g1"))

  private def learner = new PolicyTreeLearner().setFeatureCols(Array("x1", "x0")).setRewardCols(Array("g0", "g1")).setMaxDepth(1)

  private def root(m: PolicyTreeModel) = m.nodeTable.root

  test("default settings put the threshold on the largest training value at or below the planted one") {
    val df = data(20000, 3).cache()
    val largestBelow = df.where(col("x0") <= planted).agg(max("x0")).head().getDouble(0)
    val model = learner.fit(df)
    assert(model.getThresholdSearch == "exact" && model.getMaxBins == 64)
    assert(root(model).feature == 1 && root(model).threshold == largestBelow, model.toDebugString)
    // Every row classified right: the exhaustive optimum (reward 20000 of 20000).
    assert(model.transform(df).where(col("policy_action_index") =!= when(col("x0") <= planted, 1).otherwise(0)).count() == 0)
    val binned = learner.setThresholdSearch("binned").fit(df)
    val edge = root(binned).threshold
    assert(binned.splitBoundaries(1).contains(edge) && binned.splitBoundaries(1).length == 63)
    assert(math.abs(edge - planted) > 1e-3, s"the 64-bin grid should miss the planted threshold, got $edge")
    // The refined model's boundaries are the fine grid: every training value of x0 but the largest.
    assert(model.splitBoundaries(1).length == df.select("x0").distinct().count() - 1)
  }

  test("with a sample smaller than the data, the threshold lies within the gap of the sample values around it") {
    val df = data(30000, 4).cache()
    val model = learner.setBoundarySampleSize(3000).fit(df)
    val edges = model.splitBoundaries(1)
    assert(edges.length > 2000 && edges.length < 4000, s"${edges.length} fine edges from a 3,000-row sample")
    val (below, above) = (edges.filter(_ <= planted).max, edges.filter(_ > planted).min)
    val t = root(model).threshold
    assert(root(model).feature == 1 && (t == below || t == above), s"threshold $t outside [$below, $above]")
  }

  test("refined trees are bit-identical under repartition and coalesce, and differ from binned ones") {
    val df = data(20000, 3).withColumn("g1", col("g1") + (col("x1") - 0.5) * 0.3).cache()
    val deeper = learner.setMaxDepth(3)
    val base = deeper.fit(df)
    Seq(df.repartition(7), df.coalesce(1), df.orderBy(col("x1").desc)).foreach { other =>
      val m = deeper.fit(other)
      assert(m.nodeTable == base.nodeTable && m.signatures == base.signatures)
    }
    assert(deeper.setThresholdSearch("binned").fit(df).nodeTable.contentHash != base.nodeTable.contentHash)
    assert(base.contract.recipe.searchBins == 64)
  }
}

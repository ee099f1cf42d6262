package org.sparkpolicy.ml

import org.apache.spark.sql.DataFrame
import org.apache.spark.sql.functions._
import org.scalatest.funsuite.AnyFunSuite
import org.sparkpolicy.SparkTestSession
import org.sparkpolicy.synthetic.PlantedPolicyData
import org.sparkpolicy.ml.model.{PolicyOutputColumns, TreeNode}
import org.sparkpolicy.train.TreeSettings

/** End to end on the planted depth-2 policy: recovery, layout independence, scoring parity, driver traffic. */
class PlantedPolicySuite extends AnyFunSuite with SparkTestSession {
  private val rows = 120000L
  private lazy val data: DataFrame = PlantedPolicyData.generate(spark, rows, numFeatures = 10, numPartitions = 4).cache()
  private lazy val train = data.where(!col("holdout"))
  private lazy val holdout = data.where(col("holdout"))

  private def learner = new PolicyTreeLearner()
    .setFeatureCols(PlantedPolicyData.featureNames(10))
    .setRewardCols(Array("g0", "g1", "g2"))
    .setTreatmentVocabulary(PlantedPolicyData.Arms.toArray)
    .setMaxDepth(2)

  // Default settings: exact thresholds (every distinct sample value a candidate, 64 coarse bins refined).
  private lazy val model = learner.fit(train)

  private def assertSplitNear(m: PolicyTreeModel, node: Int, feature: Int, threshold: Double): Unit = {
    val n = m.nodeTable.byId(node)
    assert(!n.isLeaf, s"node $node should split\n${m.toDebugString}")
    assert(n.feature == feature, s"node $node splits on x${n.feature}, planted x$feature\n${m.toDebugString}")
    // A 64-bin grid alone would be up to 1/128 off; refinement lands within noise of the planted value.
    assert(math.abs(n.threshold - threshold) < 0.004, s"node $node threshold ${n.threshold} is off the planted $threshold")
  }

  test("recovers the planted depth-2 policy: features, thresholds within 0.004, holdout value within 1%") {
    assertSplitNear(model, 1, 0, 0.5)
    assertSplitNear(model, 2, 1, 0.3)
    assertSplitNear(model, 3, 2, 0.6)
    assert(model.nodeTable.leaves.map(l => l.id -> l.arm).toMap == Map(4 -> 1, 5 -> 0, 6 -> 2, 7 -> 0))
    val scored = model.transform(holdout)
    val learnedValue = PlantedPolicyData.trueValue(scored, PolicyOutputColumns.ActionIndex)
    val plantedValue = PlantedPolicyData.trueValue(holdout, "planted_arm")
    assert(math.abs(plantedValue - PlantedPolicyData.PlantedValue) < 0.02, s"planted value on the holdout: $plantedValue")
    assert(learnedValue >= 0.99 * plantedValue, s"learned $learnedValue vs planted $plantedValue\n${model.toDebugString}")
    assert(model.getTreatmentVocabulary.toSeq == PlantedPolicyData.Arms)
    assert(model.bestArmOnTraining == "arm0")
  }

  test("the tree learned from 1 partition and from 16 partitions is identical, node for node") {
    val one = learner.setMaxBins(256).fit(train.coalesce(1)).nodeTable
    val sixteen = learner.setMaxBins(256).fit(train.repartition(16)).nodeTable
    assert(one == model.nodeTable)
    assert(sixteen == model.nodeTable)
    assert(one.contentHash == sixteen.contentHash)
  }

  test("transform equals a direct traversal of the node table in Scala") {
    val features = PlantedPolicyData.featureNames(10)
    val out = model.transform(holdout.limit(20000)).select(
      (features.map(col).toSeq :+ col(PolicyOutputColumns.Action) :+ col(PolicyOutputColumns.ActionIndex) :+
        col(PolicyOutputColumns.Scores) :+ col(PolicyOutputColumns.Leaf)): _*).collect()
    assert(out.length == 20000)
    val table = model.nodeTable
    out.foreach { r =>
      val leaf: TreeNode = table.leafOf(f => r.getDouble(f))
      assert(r.getInt(11) == leaf.arm)
      assert(r.getString(10) == PlantedPolicyData.Arms(leaf.arm))
      assert(r.getSeq[Double](12) == leaf.values)
      assert(r.getInt(13) == leaf.id)
    }
  }

  test("the driver receives at most frontier nodes × feature blocks split records per level") {
    // A tiny histogram budget with many bins forces several feature blocks per level. Each level plans its own
    // blocks only without sibling subtraction (with it, levels below the root keep the root's: SiblingSubtractionSuite).
    spark.conf.set(TreeSettings.SiblingSubtractionConf, "false")
    try blockedVsUnblocked() finally spark.conf.unset(TreeSettings.SiblingSubtractionConf)
  }

  private def blockedVsUnblocked(): Unit = {
    val blocked = learner.setMaxBins(4096).setMaxMemoryMB(1).setMaxDepth(3).fit(train)
    val levels = blocked.trainingSummary.levels
    assert(levels.size == 3)
    assert(levels.exists(_.featureBlocks > 1), s"expected feature blocking: $levels")
    levels.foreach { l =>
      assert(l.recordsToDriver > 0)
      assert(l.recordsToDriver <= l.frontierNodes * l.featureBlocks, s"level $l")
    }
    // Blocking changes how the work is cut, never the tree.
    val unblocked = learner.setMaxBins(4096).setMaxMemoryMB(256).setMaxDepth(3).fit(train)
    val blocks = (m: PolicyTreeModel) => m.trainingSummary.levels.map(_.featureBlocks).sum
    assert(blocks(blocked) > blocks(unblocked), "the 1 MiB budget cuts more feature blocks than the default")
    // Smaller chunks show in the measured native peak (blocks and routing are the same in both fits).
    val (pb, pu) = (blocked.trainingSummary.peakNativeBytesPerTask, unblocked.trainingSummary.peakNativeBytesPerTask)
    assert(pb > 0 && pb < pu, s"peak native bytes per task: blocked $pb, unblocked $pu")
    assert(blocked.nodeTable == unblocked.nodeTable)
  }

  test("toDebugString names features, thresholds and arm labels") {
    val s = model.toDebugString
    assert(s.contains("If (x0 <= ") && s.contains("Predict: arm1") && s.contains("Predict: arm2"), s)
  }

  test("IPW rewards from outcome and treatment find the planted root split") {
    val ipw = new PolicyTreeLearner()
      .setFeatureCols(PlantedPolicyData.featureNames(10))
      .setTreatmentCol("treatment").setOutcomeCol("outcome").setPropensityCol("propensity").setRewardType("ipw")
      .setMaxDepth(1)
      .fit(train)
    assert(ipw.getTreatmentVocabulary.toSeq == PlantedPolicyData.Arms)
    assertSplitNear(ipw, 1, 0, 0.5)
    assert(ipw.trainingSummary.rewardType == "ipw")
  }
}

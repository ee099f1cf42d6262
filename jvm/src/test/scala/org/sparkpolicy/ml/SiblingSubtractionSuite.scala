package org.sparkpolicy.ml

import scala.jdk.CollectionConverters._

import org.apache.spark.sql.DataFrame
import org.apache.spark.sql.functions._
import org.scalatest.funsuite.AnyFunSuite
import org.sparkpolicy.{SparkTestSession, TestData}
import org.sparkpolicy.synthetic.PlantedPolicyData
import org.sparkpolicy.train.{LevelPlan, SiblingPlan, TreeSettings}

/**
 * Sibling subtraction (GitHub issue #12): a level below a greedy level builds only each split's smaller
 * child and derives the other as parent − child. Exact integer sums make it the same bits as building
 * both, so every fit here is compared with the same fit with it off (the internal session conf), and the
 * kernels' row counts show the work saved.
 */
class SiblingSubtractionSuite extends AnyFunSuite with SparkTestSession {
  private val features = PlantedPolicyData.featureNames(6)

  /**
   * Planted policy with nulls in x5 and NaNs in x4, a categorical column, and smooth terms in x3 so that
   * every level to depth 4 still finds splits that pay.
   */
  private lazy val data: DataFrame = TestData.syntheticWithMissing(spark, 20000)
    .withColumn("g1", col("g1") + lit(1.5) * sin(col("x3") * 20.0))
    .withColumn("g2", col("g2") + lit(1.5) * cos(col("x1") * 15.0))
    .withColumn("region", when(col("x3") < 0.05, lit(null).cast("string"))
      .otherwise(element_at(typedLit(Seq("a", "b", "c", "d")), (floor(col("x1") * 4) + 1).cast("int"))))
    .cache()

  private def given = new PolicyTreeLearner().setFeatureCols(features :+ "region").setCategoricalCols(Array("region"))
    .setRewardCols(Array("g0", "g1", "g2")).setMaxDepth(4).setMinNodeSize(20)

  private def withSubtraction[T](on: Boolean)(body: => T): T = {
    spark.conf.set(TreeSettings.SiblingSubtractionConf, on.toString)
    try body finally spark.conf.unset(TreeSettings.SiblingSubtractionConf)
  }

  /** Fits with subtraction off on `df`, then on over `df` and its layouts, and asserts the same tree, log and signatures. */
  private def assertSameFits(learner: => PolicyTreeLearner, df: DataFrame,
      layouts: Seq[DataFrame] = Nil): (PolicyTreeModel, PolicyTreeModel) = {
    val off = withSubtraction(on = false)(learner.fit(df))
    val on = withSubtraction(on = true)(learner.fit(df))
    (on +: layouts.map(d => withSubtraction(on = true)(learner.fit(d)))).foreach { m =>
      assert(m.nodeTable == off.nodeTable, s"\n${m.toDebugString}\nvs\n${off.toDebugString}")
      assert(m.trainingLog == off.trainingLog)
      assert(m.signatures.asScala == off.signatures.asScala)
    }
    assert(off.trainingSummary.levels.forall(_.nodesDerived == 0))
    (on, off)
  }

  /** Per level, the rows of the frontier's nodes (from the decision log). */
  private def frontierRows(m: PolicyTreeModel, depth: Int): Long =
    m.trainingLog.filter(_.depth == depth).map(_.rows).sum

  /** Per level below the root, the rows of each frontier pair's smaller child: what subtraction builds. */
  private def smallerChildRows(m: PolicyTreeModel, depth: Int): Long = {
    val parents = m.trainingLog.filter(_.depth == depth).map(_.node / 2).distinct
    parents.map(p => math.min(m.nodeTable.byId(2 * p).count, m.nodeTable.byId(2 * p + 1).count)).sum
  }

  test("given rewards, depth 4, exact thresholds, a categorical feature and missing values: the same fit, and less kernel work") {
    val (on, off) = assertSameFits(given, data, Seq(data.repartition(7), data.coalesce(1)))
    val (levelsOn, levelsOff) = (on.trainingSummary.levels, off.trainingSummary.levels)
    assert(levelsOn.size == 4 && levelsOn.map(_.frontierNodes) == levelsOff.map(_.frontierNodes))
    levelsOff.foreach(l => assert(l.rowsHistogrammed == frontierRows(off, l.depth) && l.nodesBuilt == l.frontierNodes, l))
    assert(levelsOn.head.rowsHistogrammed == 20000 && levelsOn.head.nodesDerived == 0)
    levelsOn.tail.foreach { l =>
      // Only the smaller child of each split reaches the kernel; its sibling is derived.
      assert(l.rowsHistogrammed == smallerChildRows(on, l.depth), l)
      assert(l.rowsHistogrammed < frontierRows(on, l.depth), l)
      assert(l.nodesDerived > 0 && l.nodesBuilt + l.nodesDerived >= l.frontierNodes, l)
    }
    info("rows histogrammed per level, on vs off: " +
      levelsOn.zip(levelsOff).map { case (a, b) => s"${a.rowsHistogrammed}/${b.rowsHistogrammed}" }.mkString(", "))
  }

  test("binned thresholds: the same fit under repartition and coalesce") {
    assertSameFits(given.setThresholdSearch("binned"), data, Seq(data.repartition(5), data.coalesce(2)))
  }

  test("searchDepth 2 with maxDepth 3: the greedy last level builds everything (no parent histograms), the same fit") {
    val (on, _) = assertSameFits(given.setMaxDepth(3).setSearchDepth(2).setMaxBins(16), data.limit(6000).cache())
    assert(on.trainingSummary.levels.forall(_.nodesDerived == 0))
  }

  test("a split whose children are each empty in some partitions") {
    // Range-partitioned on the root's feature, the root's split leaves a child without rows in some partitions.
    val allFeatures = features :+ "region"
    val rootFeature = allFeatures.apply(withSubtraction(on = false)(given.setMaxDepth(1).fit(data)).nodeTable.root.feature)
    val ranged = data.repartitionByRange(4, col(rootFeature)).cache()
    val (on, _) = assertSameFits(given.setMaxDepth(3), ranged, Seq(ranged.repartitionByRange(3, col(rootFeature))))
    assert(on.trainingSummary.levels(1).nodesDerived > 0)
  }

  test("a tiny maxMemoryMB: several feature blocks and node groups, the parent's blocks reused, the same fit") {
    // Every distinct value a bin: ~20,000 codes per feature, so 1 MB holds one node's histogram of one feature.
    def learner = given.setMaxDepth(4).setThresholdSearch("binned").setMaxBins(65535).setMaxMemoryMB(1)
      .setFeatureCols(features).setCategoricalCols(Array.empty[String])
    val (on, _) = assertSameFits(learner, data)
    val levels = on.trainingSummary.levels
    assert(levels.forall(_.featureBlocks == levels.head.featureBlocks) && levels.head.featureBlocks > 1, levels)
    assert(levels.exists(l => l.nodeGroups > 1 && l.nodesDerived > 0), levels)
  }

  test("AIPW: the outcome trees and the policy tree subtract, the same fit under repartition") {
    val aipwData = PlantedPolicyData.generate(spark, 6000, numFeatures = 6, numPartitions = 3)
      .withColumn("y", col("outcome") + lit(6.0) * sin(col("x3") * 6.0)).cache()
    def learner = new PolicyTreeLearner().setFeatureCols(features).setTreatmentCol("treatment").setOutcomeCol("y")
      .setMaxDepth(3).setMaxBins(32).setOutcomeMaxDepth(4)
    val (on, _) = assertSameFits(learner, aipwData, Seq(aipwData.repartition(5)))
    assert(on.trainingSummary.rewardType == "aipw" && on.trainingSummary.levels.tail.exists(_.nodesDerived > 0))
  }

  test("derive: the larger child is the parent minus the smaller, and the whole parent when the smaller had no rows") {
    val plan = SiblingPlan(Array(2, 3), Map(2 -> 10L, 3 -> 4L).withDefaultValue(0L))
    assert(plan.pairs == Vector(SiblingPlan.Pair(1, small = 3, large = 2, searchSmall = true, searchLarge = true)))
    assert(plan.built.toSeq == Seq(3) && plan.derived == 1)
    val parent = Array(7L, 3L, 10L, 1L, 0L, 4L)
    val small = Array(2L, 1L, 3L, 0L, 0L, 1L)
    val out = plan.derive(1, Some(small), parent).toMap
    assert(out(3).toSeq == small.toSeq && out(2).toSeq == Seq(5L, 2L, 7L, 1L, 0L, 3L))
    assert(parent.toSeq == Seq(7L, 3L, 10L, 1L, 0L, 4L), "the cached parent is never written")
    assert(plan.derive(1, None, parent).map { case (n, h) => n -> h.toSeq } == Seq(2 -> parent.toSeq))
    // A child outside the frontier (too small to split) is still built, to derive its sibling, but not searched.
    val one = SiblingPlan(Array(6), Map(6 -> 50L, 7 -> 3L).withDefaultValue(0L))
    assert(one.built.toSeq == Seq(7) && one.derive(3, Some(small), parent).map(_._1) == Seq(6))
  }

  test("withFeatureBlocks keeps every chunk inside the memory budget") {
    val codes = Array.fill(8)(3000)
    val parent = LevelPlan(1, codes, 3, 1, minKeys = 4)
    Seq(1, 3, 8, 40).foreach { n =>
      val plan = LevelPlan.withFeatureBlocks(n, parent.featureBlocks, codes, 3, 1)
      assert(plan.featureBlocks == parent.featureBlocks && plan.nodeGroups.map(g => g._2 - g._1).sum == n)
      plan.chunks.foreach { c =>
        val cells = (c.slotEnd - c.slotStart).toLong * (c.featureStart until c.featureEnd).map(codes(_) * 4L).sum
        assert(cells <= 1024 * 1024 / 8, s"$c of $plan")
      }
    }
  }
}

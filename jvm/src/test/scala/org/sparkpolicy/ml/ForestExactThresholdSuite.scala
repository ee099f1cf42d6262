package org.sparkpolicy.ml

import org.apache.spark.sql.DataFrame
import org.apache.spark.sql.functions._
import org.scalatest.funsuite.AnyFunSuite
import org.sparkpolicy.SparkTestSession
import org.sparkpolicy.synthetic.PlantedPolicyData
import org.sparkpolicy.train.FeatureSubset

/**
 * A forest's exact thresholds (the default, as a tree's: docs/contract.md, "Exact thresholds" and
 * "Forests"): each level's coarse winners are refined at full resolution for every tree in one pass, each
 * tree on its own sampled rows. One tree on every row equals the tree learner's exact tree; a planted
 * threshold between coarse edges is recovered by every tree to the gap between its rows' values, while
 * binned trees land on a coarse edge; the forest is the same in every layout and thread count.
 */
class ForestExactThresholdSuite extends AnyFunSuite with SparkTestSession {
  /** Inside the 11th of 64 quantile bins of U(0, 1), far from both of its edges. */
  private val planted = 10.5 / 64

  /** x0 ~ U(0, 1) (distinct values), x1, x2 noise; arm 1 pays 1 exactly when x0 <= planted, arm 0 otherwise. */
  private def data(n: Int, partitions: Int): DataFrame =
    spark.range(n).repartition(partitions)
      .select(
        (abs(xxhash64(col("id"), lit("x0"))) % 1000000007L / 1000000007.0).as("x0"),
        (abs(xxhash64(col("id"), lit("x1"))) % 1000003L / 1000003.0).as("x1"),
        (abs(xxhash64(col("id"), lit("x2"))) % 1000033L / 1000033.0).as("x2"))
      .withColumn("g1", when(col("x0") <= planted, 1.0).otherwise(0.0))
      .withColumn("g0", lit(1.0) - col("g1"))

  private lazy val stepData = data(20000, 3).cache()

  private def stepForest = new PolicyForestLearner().setFeatureCols(Array("x1", "x0", "x2")).setRewardCols(Array("g0", "g1"))
    .setMaxDepth(1).setNumTrees(6)

  private val features = PlantedPolicyData.featureNames(6)
  private lazy val planted3: DataFrame = PlantedPolicyData.generate(spark, 30000, numFeatures = 6, numPartitions = 4).cache()

  private def forest = new PolicyForestLearner().setFeatureCols(features).setRewardCols(Array("g0", "g1", "g2"))
    .setTreatmentVocabulary(PlantedPolicyData.Arms.toArray).setMaxDepth(3).setNumTrees(6)

  private def signatures(m: PolicyForestModel) = scala.jdk.CollectionConverters.MapHasAsScala(m.signatures).asScala.toMap

  test("exact thresholds are the default; one tree on every row and feature, not honest, is the tree learner's exact tree") {
    assert(new PolicyForestLearner().getThresholdSearch == "exact" && new PolicyTreeLearner().getThresholdSearch == "exact")
    val one = forest.setNumTrees(1).setSubsamplingRate(1.0).setHonest(false).fit(planted3)
    val tree = new PolicyTreeLearner().setFeatureCols(features).setRewardCols(Array("g0", "g1", "g2"))
      .setTreatmentVocabulary(PlantedPolicyData.Arms.toArray).setMaxDepth(3).fit(planted3)
    assert(one.getThresholdSearch == "exact" && one.contract.recipe.searchBins == 64)
    assert(one.nodeTables.head == tree.nodeTable, s"${one.toDebugString}\n${tree.toDebugString}")
    assert(one.trees.head.trainingLog == tree.trainingLog)
    assert(one.contract == tree.contract)
    assert(signatures(one)("input") == tree.signatures.get("input") && signatures(one)("output") == tree.signatures.get("output"))
    // The fine grid shows: some split is not on a coarse edge (the binned forest's thresholds are all coarse edges).
    val binned = forest.setNumTrees(1).setSubsamplingRate(1.0).setHonest(false).setThresholdSearch("binned").fit(planted3)
    assert(binned.nodeTables.head != one.nodeTables.head)
    // With bounds and every reaching bin refined (refineBins 0) on both: still the tree learner's tree.
    val exhaustive = forest.setNumTrees(1).setSubsamplingRate(1.0).setHonest(false).setRefineBins(0).fit(planted3)
    val exhaustiveTree = new PolicyTreeLearner().setFeatureCols(features).setRewardCols(Array("g0", "g1", "g2"))
      .setTreatmentVocabulary(PlantedPolicyData.Arms.toArray).setMaxDepth(3).setRefineBins(0).fit(planted3)
    assert(exhaustive.nodeTables.head == exhaustiveTree.nodeTable && exhaustive.trees.head.trainingLog == exhaustiveTree.trainingLog)
    assert(exhaustive.levelStats.exists(_.nodesExhaustive > 0))
  }

  test("a planted threshold between coarse edges: exact trees find it to their rows' gap, binned trees miss it") {
    val df = stepData
    val largestBelow = df.where(col("x0") <= planted).agg(max("x0")).head().getDouble(0)
    // Every row, every tree alike: the largest training value at or below the planted threshold, as the tree learner.
    val all = stepForest.setSubsamplingRate(1.0).setHonest(false).fit(df)
    all.nodeTables.foreach(t => assert(t.root.feature == 1 && t.root.threshold == largestBelow, all.toDebugString))
    // On a sample of the rows, each tree splits on a training value at or below the planted one with only the other
    // trees' rows between them: the best threshold on its own rows is the largest of their values at or below it, and
    // a tree takes each row with probability 1/2 (1/4 for an honest tree's structure half), so few rows lie between.
    val x0 = df.select("x0").collect().map(_.getDouble(0))
    def between(t: Double) = x0.count(v => v > math.min(t, planted) && v <= math.max(t, planted))
    def exactGaps(m: PolicyForestModel): Seq[Int] = m.nodeTables.map { t =>
      assert(t.root.feature == 1 && t.root.threshold <= planted && x0.contains(t.root.threshold), m.toDebugString)
      between(t.root.threshold)
    }
    val half = exactGaps(stepForest.setHonest(false).fit(df))
    val sampled = stepForest.fit(df) // honest, the default
    val honest = exactGaps(sampled)
    assert(sampled.nodeTables.map(_.root.threshold).distinct.length > 1, "every tree saw the same rows")
    val binned = stepForest.setThresholdSearch("binned").fit(df)
    val edges = binned.nodeTables.map { t =>
      assert(binned.splitBoundaries(1).contains(t.root.threshold) && binned.splitBoundaries(1).length == 63)
      between(t.root.threshold)
    }
    val counts = s"rows between each tree's threshold and the planted one: exact ${half.mkString(",")}, honest exact " +
      s"${honest.mkString(",")}, binned ${edges.mkString(",")}"
    assert(half.max < 20 && honest.max < 40 && edges.min > 50, counts)
    info(counts)
    // The exact forest's boundaries are the fine grid: every training value of x0 but the largest.
    assert(sampled.splitBoundaries(1).length == x0.distinct.length - 1)
  }

  test("refinement keeps to each node's feature subset, with or without bounds") {
    for (m <- Seq(forest.setFeatureSubsetStrategy("2").fit(planted3), forest.setFeatureSubsetStrategy("2").setRefineBins(0).fit(planted3)))
    m.nodeTables.zipWithIndex.foreach { case (tree, t) =>
      tree.nodes.filterNot(_.isLeaf).foreach { node =>
        assert(FeatureSubset(m.getSeed, t, features.length, 2).allowed(node.id)(node.feature), s"tree $t node ${node.id}")
        assert(m.splitBoundaries(node.feature).contains(node.threshold))
      }
    }
  }

  test("exact forests and signatures are the same under repartition, coalesce, shuffle and thread count; seed and search differ") {
    val base = forest.fit(planted3)
    val sigs = signatures(base)
    Seq(planted3.repartition(7), planted3.coalesce(1), planted3.orderBy(col("x3").desc)).foreach { other =>
      val m = forest.fit(other)
      assert(m.nodeTables == base.nodeTables && signatures(m) == sigs)
    }
    val threaded = forest.setNativeThreads(2).fit(planted3)
    assert(threaded.nodeTables == base.nodeTables && signatures(threaded) == sigs)
    assert(signatures(forest.setSeed(3L).fit(planted3))("model") != sigs("model"))
    assert(signatures(forest.setThresholdSearch("binned").fit(planted3))("model") != sigs("model"))
  }

  test("an unknown thresholdSearch is an error naming the Param and the value") {
    val e = intercept[IllegalArgumentException](forest.setThresholdSearch("quantile"))
    assert(e.getMessage.contains("thresholdSearch") && e.getMessage.contains("quantile"), e.getMessage)
  }

  test("refineBins below 2 but 0 is an error naming the Param and the value; forests default to 2, trees to 8") {
    Seq(intercept[IllegalArgumentException](forest.setRefineBins(-1)),
      intercept[IllegalArgumentException](new PolicyTreeLearner().setRefineBins(1))).zip(Seq("-1", "1")).foreach { case (e, v) =>
      assert(e.getMessage.contains("refineBins") && e.getMessage.contains(v), e.getMessage)
    }
    assert(forest.getRefineBins == 2 && new PolicyTreeLearner().getRefineBins == 8 && new PolicyTreeLearner().setRefineBins(0).getRefineBins == 0)
  }
}

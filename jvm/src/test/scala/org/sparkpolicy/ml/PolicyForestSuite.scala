package org.sparkpolicy.ml

import org.apache.spark.ml.{Pipeline, PipelineModel}
import org.apache.spark.ml.evaluation.Evaluator
import org.apache.spark.ml.tuning.{CrossValidator, ParamGridBuilder}
import org.apache.spark.sql.DataFrame
import org.apache.spark.sql.functions._
import org.scalatest.funsuite.AnyFunSuite
import org.sparkpolicy.SparkTestSession
import org.sparkpolicy.ml.model.PolicyOutputColumns
import org.sparkpolicy.synthetic.PlantedPolicyData
import org.sparkpolicy.train.FeatureSubset

/** The policy forest: its trees against the tree learner, the vote against its members, layouts, persistence, bad Params. */
class PolicyForestSuite extends AnyFunSuite with SparkTestSession {
  private val features = PlantedPolicyData.featureNames(6)
  private lazy val data: DataFrame = PlantedPolicyData.generate(spark, 40000, numFeatures = 6, numPartitions = 4).cache()
  private lazy val train = data.where(!col("holdout"))
  private lazy val holdout = data.where(col("holdout"))

  private def forest = new PolicyForestLearner()
    .setFeatureCols(features)
    .setRewardCols(Array("g0", "g1", "g2"))
    .setTreatmentVocabulary(PlantedPolicyData.Arms.toArray)
    .setMaxDepth(2)
    .setNumTrees(12)

  private lazy val model = forest.fit(train)

  private def signatures(m: PolicyForestModel) = scala.jdk.CollectionConverters.MapHasAsScala(m.signatures).asScala.toMap

  test("one tree on every row and feature, not honest, is the tree learner's binned tree") {
    val one = forest.setNumTrees(1).setSubsamplingRate(1.0).setHonest(false).setThresholdSearch("binned").fit(train)
    val tree = new PolicyTreeLearner().setFeatureCols(features).setRewardCols(Array("g0", "g1", "g2"))
      .setTreatmentVocabulary(PlantedPolicyData.Arms.toArray).setMaxDepth(2).setThresholdSearch("binned").fit(train)
    assert(one.nodeTables.head == tree.nodeTable, s"${one.toDebugString}\n${tree.toDebugString}")
    assert(one.trees.head.trainingLog == tree.trainingLog)
    assert(signatures(one)("input") == tree.signatures.get("input"))
    // With one tree the vote is the tree's own scores, so the forest's training output signature is the tree's.
    assert(signatures(one)("output") == tree.signatures.get("output"))
    // The best constant arm is over every training row, whatever each tree's sample.
    assert(one.bestArmOnTraining == tree.bestArmOnTraining && model.bestArmOnTraining == tree.bestArmOnTraining)
    val evaluator = new PolicyValueEvaluator().setRewardCols(Array("g0", "g1", "g2")).setModel(model)
    assert(evaluator.getOrDefault(evaluator.bestArm) == tree.bestArmOnTraining)
  }

  test("a Spark ML regressor as the AIPW outcome model: one full tree is the tree learner's; saved with the learner") {
    val lr = new org.apache.spark.ml.regression.LinearRegression().setMaxIter(5)
    val aipw = train.where(col("id") < 8000)
    val one = new PolicyForestLearner().setFeatureCols(features).setTreatmentCol("treatment").setOutcomeCol("outcome")
      .setMaxDepth(2).setMaxBins(32).setNumTrees(1).setSubsamplingRate(1.0).setHonest(false).setThresholdSearch("binned")
      .setOutcomeModel(lr)
    val tree = new PolicyTreeLearner().setFeatureCols(features).setTreatmentCol("treatment").setOutcomeCol("outcome")
      .setMaxDepth(2).setMaxBins(32).setThresholdSearch("binned").setOutcomeModel(lr).fit(aipw)
    val fitted = one.fit(aipw)
    assert(fitted.getRewardType == "aipw")
    assert(fitted.contract.reward.aipw.exists(_.outcomeModel == classOf[org.apache.spark.ml.regression.LinearRegression].getName))
    assert(fitted.nodeTables.head == tree.nodeTable, s"${fitted.toDebugString}\n${tree.toDebugString}")
    val path = java.nio.file.Files.createTempDirectory("sparkpolicy-forest").resolve("learner").toString
    one.write.save(path)
    val loaded = PolicyForestLearner.load(path)
    assert(loaded.getOutcomeModel.exists(_.uid == lr.uid) && loaded.copy(org.apache.spark.ml.param.ParamMap.empty).getOutcomeModel.isDefined)
    assert(loaded.fit(aipw).nodeTables == fitted.nodeTables)
  }

  test("trees draw different rows and features; the planted policy is recovered on the holdout") {
    val roots = model.nodeTables.map(_.root)
    assert(model.getNumTreesFitted == 12 && roots.forall(!_.isLeaf))
    // Honest trees on half the rows: each root's decision saw about a quarter of the training rows (its structure half).
    val n = train.count().toDouble
    model.trees.foreach { t =>
      val rows = t.trainingLog.head.rows
      assert(math.abs(rows / n - 0.25) < 0.02, s"root rows $rows of $n")
    }
    assert(model.trees.map(_.trainingLog.head.rows).distinct.length > 1, "every tree saw the same row count")
    // Their leaf values come from the other half: the leaves' counts are estimation rows, not the structure rows.
    model.nodeTables.zip(model.trees).foreach { case (tree, t) =>
      val estimation = tree.leaves.map(_.count).sum
      assert(math.abs(estimation / n - 0.25) < 0.02 && estimation != t.trainingLog.head.rows, s"$estimation estimation rows")
    }
    val notHonest = forest.setHonest(false).setNumTrees(3).fit(train)
    notHonest.nodeTables.zip(notHonest.trees).foreach { case (tree, t) =>
      assert(tree.leaves.map(_.count).sum == t.trainingLog.head.rows)
      assert(math.abs(t.trainingLog.head.rows / n - 0.5) < 0.02)
    }
    val value = PlantedPolicyData.trueValue(model.transform(holdout), PolicyOutputColumns.ActionIndex)
    val planted = PlantedPolicyData.trueValue(holdout, "planted_arm")
    assert(value >= 0.97 * planted, s"forest value $value vs planted $planted\n${model.toDebugString}")
    val importances = model.featureImportances.toArray
    assert(math.abs(importances.sum - 1.0) < 1e-12 && importances.take(3).sum > 0.95, importances.mkString(","))
  }

  test("a node splits only on its feature subset") {
    val m = forest.setFeatureSubsetStrategy("2").setNumTrees(8).fit(train)
    assert(m.featureSubsetSize == 2)
    m.nodeTables.zipWithIndex.foreach { case (tree, t) =>
      tree.nodes.filterNot(_.isLeaf).foreach { node =>
        val allowed = FeatureSubset(m.getSeed, t, features.length, 2).allowed(node.id)
        assert(allowed.count(identity) == 2 && allowed(node.feature), s"tree $t node ${node.id} splits on x${node.feature}")
      }
    }
    assert(m.nodeTables.map(_.root.feature).distinct.length > 1, "every root split on the same feature")
  }

  test("transform's scores are the mean of the member trees' native scores; the action their argmax") {
    val rows = holdout.limit(3000).cache()
    val scored = model.transform(rows).select((features.map(col) ++ Seq(col(PolicyOutputColumns.ActionIndex),
      col(PolicyOutputColumns.Scores), col(PolicyForestModel.Leaves))): _*).collect()
    val members = model.trees.map(_.transform(rows).select((features.map(col) ++ Seq(col(PolicyOutputColumns.Scores),
      col(PolicyOutputColumns.Leaf))): _*).collect().map(r => features.indices.map(r.getDouble) -> r).toMap)
    scored.foreach { r =>
      val key = features.indices.map(r.getDouble)
      val sums = new Array[Double](3)
      members.foreach(m => m(key).getSeq[Double](features.length).zipWithIndex.foreach { case (v, a) => sums(a) += v })
      val expected = sums.map(_ / members.length).toSeq
      assert(r.getSeq[Double](features.length + 1) == expected)
      assert(r.getInt(features.length) == expected.indexOf(expected.max))
      assert(r.getSeq[Int](features.length + 2) == members.map(m => m(key).getInt(features.length + 1)).toSeq)
    }
    rows.unpersist()
  }

  test("the same forest and signatures in any layout; the training output signature is the scored training rows'") {
    val base = signatures(model)
    val one = forest.fit(train.coalesce(1))
    val many = forest.fit(train.repartition(9))
    assert(one.nodeTables == model.nodeTables && many.nodeTables == model.nodeTables)
    assert(signatures(one) == base && signatures(many) == base)
    assert(model.outputSignature(train.repartition(3)) == base("output"))
    // Another seed draws other trees.
    assert(signatures(forest.setSeed(7L).fit(train))("model") != base("model"))
  }

  test("save and load: the same trees, signatures and scores") {
    val dir = java.nio.file.Files.createTempDirectory("sparkpolicy-forest").resolve("m").toString
    model.write.save(dir)
    val loaded = PolicyForestModel.load(dir)
    assert(loaded.nodeTables == model.nodeTables && signatures(loaded) == signatures(model))
    assert(loaded.getNumTrees == 12 && loaded.getHonest && loaded.featureSubsetSize == model.featureSubsetSize)
    assert(loaded.bestArmOnTraining == model.bestArmOnTraining)
    assert(loaded.outputSignature(holdout) == model.outputSignature(holdout))
  }

  test("bad Params are errors naming them") {
    val search = intercept[IllegalArgumentException](forest.setThresholdSearch("fine"))
    assert(search.getMessage.contains("thresholdSearch") && search.getMessage.contains("fine"), search.getMessage)
    val deep = intercept[IllegalArgumentException](forest.setSearchDepth(2).fit(train))
    assert(deep.getMessage.contains("searchDepth 2"))
    Seq("bogus", "0", "1.5", "-1").foreach { s =>
      val e = intercept[IllegalArgumentException](forest.setFeatureSubsetStrategy(s))
      assert(e.getMessage.contains("featureSubsetStrategy"), e.getMessage)
    }
    assert(intercept[IllegalArgumentException](forest.setSubsamplingRate(0.0)).getMessage.contains("subsamplingRate"))
    assert(intercept[IllegalArgumentException](forest.setNumTrees(0)).getMessage.contains("numTrees"))
  }

  test("a Pipeline stage and a CrossValidator estimator with hash folds, the same in any layout") {
    val folded = HashSplit.withFoldColumn(train.drop("holdout"), 2, keyCols = Seq("id"))
    val small = forest.setNumTrees(4)
    val pipeline = new Pipeline().setStages(Array(small)).fit(folded)
    val dir = java.nio.file.Files.createTempDirectory("sparkpolicy-forest-pipeline").resolve("p").toString
    pipeline.write.save(dir)
    val cols = Seq("id", PolicyOutputColumns.ActionIndex, PolicyOutputColumns.Scores, PolicyForestModel.Leaves).map(col)
    assert(PipelineModel.load(dir).transform(holdout).select(cols: _*).orderBy("id").collect().toSeq ==
      pipeline.transform(holdout).select(cols: _*).orderBy("id").collect().toSeq)
    val grid = new ParamGridBuilder().addGrid(small.maxDepth, Array(1, 2)).build()
    def cv(df: DataFrame) = new CrossValidator().setEstimator(small).setEstimatorParamMaps(grid).setFoldCol("fold").setNumFolds(2)
      .setEvaluator(new PolicyValueEvaluator().setRewardCols(Array("g0", "g1", "g2")): Evaluator).fit(df)
    val a = cv(folded)
    assert(a.bestModel.asInstanceOf[PolicyForestModel].getMaxDepth == 2, a.avgMetrics.mkString(", "))
    assert(cv(folded.repartition(5)).avgMetrics.toSeq == a.avgMetrics.toSeq)
  }

  test("with noisy rewards the forest's holdout value is at least the single tree's; 2 native threads change nothing") {
    val noisy = PlantedPolicyData.generate(spark, 20000, numFeatures = 6, numPartitions = 4, noiseSd = 6.0, seed = 11L).cache()
    val (fit, test) = (noisy.where(!col("holdout")), noisy.where(col("holdout")))
    val tree = new PolicyTreeLearner().setFeatureCols(features).setRewardCols(Array("g0", "g1", "g2")).setMaxDepth(3).fit(fit)
    val forest3 = forest.setMaxDepth(3).setNumTrees(20).fit(fit)
    val treeValue = PlantedPolicyData.trueValue(tree.transform(test), PolicyOutputColumns.ActionIndex)
    val forestValue = PlantedPolicyData.trueValue(forest3.transform(test), PolicyOutputColumns.ActionIndex)
    assert(forestValue >= treeValue, s"forest $forestValue < tree $treeValue")
    val threaded = forest.setMaxDepth(3).setNumTrees(20).setNativeThreads(2).fit(fit)
    assert(threaded.nodeTables == forest3.nodeTables && signatures(threaded) == signatures(forest3))
    noisy.unpersist()
  }
}

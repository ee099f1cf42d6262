package org.sparkpolicy.ml

import java.nio.file.{Files, Path}

import scala.jdk.CollectionConverters._

import org.apache.spark.sql.functions.col
import org.scalatest.funsuite.AnyFunSuite
import org.sparkpolicy.{SparkTestSession, TestData}

/** Save and load in Spark ML's layout: identical signatures, node table and transform output. */
class PersistenceSuite extends AnyFunSuite with SparkTestSession {
  private def tempDir(): Path = Files.createTempDirectory("sparkpolicy-model")

  private lazy val hillstrom = TestData.hillstrom(spark).cache()

  private lazy val model = new PolicyTreeLearner()
    .setFeatureCols(TestData.HillstromFeatures).setTreatmentCol("segment").setOutcomeCol("spend").setRewardType("ipw").setMaxDepth(3)
    .setScoringBatchSize(777)
    .fit(hillstrom)

  test("a saved model loads with identical signatures, contract, params and bit-identical transform output") {
    val path = tempDir().resolve("model").toString
    model.write.save(path)
    val loaded = PolicyTreeModel.load(path)
    assert(loaded.uid == model.uid)
    assert(loaded.signatures.asScala == model.signatures.asScala)
    assert(loaded.nodeTable == model.nodeTable)
    assert(loaded.contract == model.contract)
    assert(loaded.trainingLog.size == model.trainingLog.size) // contents are covered by the decisions signature
    assert(loaded.getScoringBatchSize == 777 && loaded.getMaxDepth == 3 && loaded.getFeatureCols.toSeq == TestData.HillstromFeatures.toSeq)
    assert(loaded.outputSignature(hillstrom.repartition(3)) == model.signatures.get("output"))
    val cols = Seq("policy_action", "policy_action_index", "policy_scores", "policy_leaf").map(col)
    assert(loaded.transform(hillstrom).select(cols: _*).collect().toSeq == model.transform(hillstrom).select(cols: _*).collect().toSeq)
  }

  test("saving over an existing path needs overwrite()") {
    val path = tempDir().resolve("model").toString
    model.write.save(path)
    intercept[java.io.IOException](model.write.save(path))
    model.write.overwrite().save(path)
    assert(PolicyTreeModel.load(path).modelHash == model.modelHash)
  }

  test("a model saved in a newer format is refused with a message naming both versions") {
    val dir = tempDir().resolve("model")
    model.write.save(dir.toString)
    val part = Files.list(dir.resolve("metadata")).iterator().asScala.find(_.getFileName.toString.startsWith("part-")).get
    Files.writeString(part, Files.readString(part).replace("\"formatVersion\":1", "\"formatVersion\":9"))
    Files.deleteIfExists(part.resolveSibling(s".${part.getFileName}.crc")) // Hadoop's checksum of the edited file
    val e = intercept[IllegalArgumentException](PolicyTreeModel.load(dir.toString))
    assert(e.getMessage.contains("format version 9") && e.getMessage.contains("formats 1 and 2 only"), e.getMessage)
  }

  test("the learner's Params save and load too") {
    val path = tempDir().resolve("learner").toString
    val learner = new PolicyTreeLearner().setFeatureCols(Array("a", "b")).setRewardCols(Array("g0", "g1")).setMaxBins(17)
      .setBoundaries(Array(Array(0.5, 1.0), Array(Double.NegativeInfinity, 2.0)))
    learner.write.save(path)
    val loaded = PolicyTreeLearner.load(path)
    assert(loaded.getMaxBins == 17 && loaded.getFeatureCols.toSeq == Seq("a", "b"))
    assert(loaded.getOrDefault(loaded.boundaries).map(_.toSeq).toSeq == Seq(Seq(0.5, 1.0), Seq(Double.NegativeInfinity, 2.0)))
  }

  test("an outcome regressor is saved with the learner and DoublyRobustScores; one that cannot be saved fails the save") {
    val lr = new org.apache.spark.ml.regression.LinearRegression().setRegParam(0.25).setMaxIter(7)
    val learner = new PolicyTreeLearner().setFeatureCols(Array("a")).setTreatmentCol("w").setOutcomeCol("y").setOutcomeModel(lr)
    val drs = new DoublyRobustScores().setFeatureCols(Array("a")).setTreatmentCol("w").setOutcomeCol("y").setOutcomeModel(lr)
    Seq[(org.apache.spark.ml.util.MLWritable, String => Option[org.apache.spark.ml.Estimator[_]])](
      learner -> (p => PolicyTreeLearner.load(p).getOutcomeModel),
      drs -> (p => DoublyRobustScores.load(p).getOutcomeModel)).foreach { case (stage, reload) =>
      val path = tempDir().resolve("stage").toString
      stage.write.save(path)
      val loaded = reload(path).map(_.asInstanceOf[org.apache.spark.ml.regression.LinearRegression])
      assert(loaded.exists(m => m.uid == lr.uid && m.getRegParam == 0.25 && m.getMaxIter == 7))
    }
    val plain = tempDir().resolve("plain").toString
    new PolicyTreeLearner().setFeatureCols(Array("a")).write.save(plain)
    assert(PolicyTreeLearner.load(plain).getOutcomeModel.isEmpty)

    val unsaveable = new org.apache.spark.ml.Estimator[org.apache.spark.ml.regression.LinearRegressionModel] {
      override val uid = "handMadeRegressor_1"
      override def fit(d: org.apache.spark.sql.Dataset[_]) = throw new UnsupportedOperationException
      override def copy(extra: org.apache.spark.ml.param.ParamMap) = this
      override def transformSchema(s: org.apache.spark.sql.types.StructType) = s
    }
    val bad = tempDir().resolve("bad").toString
    val e = intercept[UnsupportedOperationException](learner.copy(org.apache.spark.ml.param.ParamMap.empty).setOutcomeModel(unsaveable).write.save(bad))
    assert(e.getMessage.contains("handMadeRegressor_1") && e.getMessage.contains("is not MLWritable"), e.getMessage)
    assert(!java.nio.file.Files.exists(java.nio.file.Path.of(bad)), "nothing is written when the save cannot complete")
    // An overwrite that cannot complete keeps the previous save.
    val kept = tempDir().resolve("kept").toString
    learner.write.save(kept)
    intercept[UnsupportedOperationException](learner.copy(org.apache.spark.ml.param.ParamMap.empty).setOutcomeModel(unsaveable).write.overwrite().save(kept))
    assert(PolicyTreeLearner.load(kept).getOutcomeModel.exists(_.uid == lr.uid))
    // A regressor whose own writer fails (a Pipeline with an unsaveable stage) leaves no half-saved stage behind.
    val half = tempDir().resolve("half").toString
    val pipeline = new org.apache.spark.ml.Pipeline().setStages(Array(unsaveable))
    intercept[UnsupportedOperationException](learner.copy(org.apache.spark.ml.param.ParamMap.empty).setOutcomeModel(pipeline).write.save(half))
    assert(!java.nio.file.Files.exists(java.nio.file.Path.of(half)), "a failed regressor save removes the stage's Params too")
  }
}

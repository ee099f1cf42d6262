package org.sparkpolicy.ml

import java.lang.reflect.Modifier
import java.nio.file.Files
import java.util.ServiceLoader

import scala.jdk.CollectionConverters._

import org.apache.spark.ml.{Estimator, Model, Transformer}
import org.apache.spark.ml.evaluation.Evaluator
import org.apache.spark.ml.param.Params
import org.scalatest.funsuite.AnyFunSuite
import org.sparkpolicy.SparkTestSession
import org.sparkpolicy.synthetic.PlantedPolicyData

/**
 * The stages as a Spark Connect server finds and builds them (Spark 4.1's `MLUtils`): providers listed
 * by `ServiceLoader.stream()` (which fails for every stage if one registered class lacks a public no-arg
 * constructor), instances made with the public `(uid: String)` constructor, Params set by name, and
 * saved stages read through the class's static `load(String)`.
 */
class ConnectRegistrationSuite extends AnyFunSuite with SparkTestSession {
  private val stages: Seq[(Class[_], String)] = Seq(
    classOf[Estimator[_]] -> "org.sparkpolicy.ml.PolicyTreeLearner",
    classOf[Transformer] -> "org.sparkpolicy.ml.PolicyTreeModel",
    classOf[Estimator[_]] -> "org.sparkpolicy.ml.PolicyForestLearner",
    classOf[Transformer] -> "org.sparkpolicy.ml.PolicyForestModel",
    classOf[Transformer] -> "org.sparkpolicy.ml.DoublyRobustScores",
    classOf[Evaluator] -> "org.sparkpolicy.ml.PolicyValueEvaluator",
    classOf[Evaluator] -> "org.sparkpolicy.ml.QiniEvaluator")

  /** What Connect's loader sees: provider class by name, without instantiating anything. */
  private def providers(service: Class[_]): Map[String, Class[_]] =
    ServiceLoader.load(service, Thread.currentThread().getContextClassLoader).stream().iterator().asScala
      .map(p => p.`type`().getName -> (p.`type`(): Class[_])).toMap

  test("ServiceLoader lists each stage under its Spark ML service, alongside Spark's own") {
    stages.foreach { case (service, name) =>
      val found = providers(service)
      assert(found.contains(name), s"$name is not registered for ${service.getName}")
      assert(found.size > 1, s"Spark's own ${service.getName} providers are missing: ${found.keys}")
    }
    assert(classOf[Model[_]].isAssignableFrom(providers(classOf[Transformer])("org.sparkpolicy.ml.PolicyTreeModel")))
    assert(classOf[Model[_]].isAssignableFrom(providers(classOf[Transformer])("org.sparkpolicy.ml.PolicyForestModel")))
  }

  test("each stage has public no-arg and (uid) constructors and takes Params by name, as Connect sets them") {
    stages.foreach { case (service, name) =>
      val cls = providers(service)(name)
      assert(Modifier.isPublic(cls.getConstructor().getModifiers))
      val instance = cls.getConstructor(classOf[String]).newInstance("connect-uid-1").asInstanceOf[Params]
      assert(instance.uid == "connect-uid-1")
      assert(cls.getConstructor().newInstance().asInstanceOf[Params].uid.nonEmpty)
    }
    val learner = providers(classOf[Estimator[_]])("org.sparkpolicy.ml.PolicyTreeLearner")
      .getConstructor(classOf[String]).newInstance("learner-uid").asInstanceOf[PolicyTreeLearner]
    learner.set(learner.getParam("featureCols"), Array("x0", "x1")).set(learner.getParam("maxDepth"), 2)
    assert(learner.getFeatureCols.toSeq == Seq("x0", "x1") && learner.getMaxDepth == 2)
    // The loader's empty model prints itself, and any use says it holds no tree rather than failing with a null.
    val empty = new PolicyTreeModel("empty-uid")
    assert(empty.toString == "PolicyTreeModel: uid=empty-uid, empty")
    val err = intercept[IllegalStateException](empty.depth)
    assert(err.getMessage.contains("empty-uid holds no tree") && err.getMessage.contains("PolicyTreeModel.load"))
  }

  test("a stage fitted, saved and read back through the static load(String) Connect calls") {
    val data = PlantedPolicyData.generate(spark, 4000, 3, 2).cache()
    val learner = providers(classOf[Estimator[_]])("org.sparkpolicy.ml.PolicyTreeLearner")
      .getConstructor(classOf[String]).newInstance("fit-uid").asInstanceOf[PolicyTreeLearner]
      .setFeatureCols(PlantedPolicyData.featureNames(3)).setRewardCols(Array("g0", "g1", "g2")).setMaxDepth(2)
    val model = learner.fit(data)
    val dir = Files.createTempDirectory("sparkpolicy-connect")
    model.write.save(dir.resolve("model").toString)
    learner.write.save(dir.resolve("learner").toString)
    new PolicyValueEvaluator("eval-uid").setRewardCols(Array("g0", "g1", "g2")).write.save(dir.resolve("evaluator").toString)
    def load(service: Class[_], name: String, path: String): AnyRef = {
      val m = providers(service)(name).getMethod("load", classOf[String])
      assert(Modifier.isStatic(m.getModifiers), s"$name.load(String) is not static")
      m.invoke(null, dir.resolve(path).toString)
    }
    val loaded = load(classOf[Transformer], "org.sparkpolicy.ml.PolicyTreeModel", "model").asInstanceOf[PolicyTreeModel]
    assert(loaded.uid == "fit-uid" && loaded.signatures.asScala == model.signatures.asScala)
    assert(load(classOf[Estimator[_]], "org.sparkpolicy.ml.PolicyTreeLearner", "learner").asInstanceOf[PolicyTreeLearner]
      .getMaxDepth == 2)
    assert(load(classOf[Evaluator], "org.sparkpolicy.ml.PolicyValueEvaluator", "evaluator").asInstanceOf[PolicyValueEvaluator]
      .uid == "eval-uid")
    // The forest, built by its (uid) constructor as Connect does, fitted, saved and read back.
    val forestLearner = providers(classOf[Estimator[_]])("org.sparkpolicy.ml.PolicyForestLearner")
      .getConstructor(classOf[String]).newInstance("forest-uid").asInstanceOf[PolicyForestLearner]
    forestLearner.set(forestLearner.getParam("numTrees"), 3).set(forestLearner.getParam("maxDepth"), 2)
      .setFeatureCols(PlantedPolicyData.featureNames(3)).setRewardCols(Array("g0", "g1", "g2"))
    val forest = forestLearner.fit(data)
    forest.write.save(dir.resolve("forest").toString)
    val loadedForest = load(classOf[Transformer], "org.sparkpolicy.ml.PolicyForestModel", "forest").asInstanceOf[PolicyForestModel]
    assert(loadedForest.uid == "forest-uid" && loadedForest.signatures.asScala == forest.signatures.asScala)
    val empty = new PolicyForestModel("empty-forest")
    assert(intercept[IllegalStateException](empty.getNumTreesFitted).getMessage.contains("empty-forest holds no trees"))
  }
}

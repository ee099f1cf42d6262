package org.sparkpolicy.ml

import java.nio.file.Files

import scala.jdk.CollectionConverters._

import org.scalatest.funsuite.AnyFunSuite
import org.sparkpolicy.{SparkTestSession, TestData}

/** Models saved by earlier releases (tree format 1, forest format 1) must keep loading and scoring the same, whatever changes later. */
class FixtureModelSuite extends AnyFunSuite with SparkTestSession {
  test("the committed format-1 model loads, keeps its signatures and scores the fixture rows as recorded") {
    val dir = TestData.fixture("models", "policytree-depth2-v1")
    val model = PolicyTreeModel.load(dir.resolve("model").toString) // verifies the saved signatures on load
    assert(model.getFeatureCols.toSeq == Seq("x0", "x1", "x2", "x3", "x4") && model.getTreatmentVocabulary.toSeq == Seq("g0", "g1", "g2"))
    val data = spark.read.option("header", "true").option("inferSchema", "true")
      .csv(TestData.fixture("policytree", "testcase_n2000_p5.csv").toString)
    val expected = Files.readAllLines(dir.resolve("expected_outputs.csv")).asScala.tail.map(_.split(",").map(_.toInt).toSeq)
    val actual = model.transform(data).select("policy_action_index", "policy_leaf").collect().map(r => Seq(r.getInt(0), r.getInt(1)))
    assert(actual.toSeq == expected.toSeq)
    assert(model.outputSignature(data.repartition(3)) == model.signatures.get("output"))
    assert(model.inputSignature(data) == model.signatures.get("input"))
  }

  test("the committed format-1 forest loads, keeps its signatures and scores the fixture rows as recorded") {
    val dir = TestData.fixture("models", "policyforest-v1")
    val model = PolicyForestModel.load(dir.resolve("model").toString)
    assert(model.getNumTreesFitted == 5 && model.featureSubsetSize == 3 && model.getTreatmentVocabulary.toSeq == Seq("g0", "g1", "g2"))
    val data = spark.read.option("header", "true").option("inferSchema", "true")
      .csv(TestData.fixture("policytree", "testcase_n2000_p5.csv").toString)
    val expected = Files.readAllLines(dir.resolve("expected_outputs.csv")).asScala.tail.map { line =>
      val Array(action, leaves) = line.split(",")
      (action.toInt, leaves.split(";").map(_.toInt).toSeq)
    }
    val actual = model.transform(data).select("policy_action_index", "policy_leaves").collect().map(r => (r.getInt(0), r.getSeq[Int](1)))
    assert(actual.toSeq == expected.toSeq)
    assert(model.outputSignature(data.repartition(3)) == model.signatures.get("output"))
    assert(model.outputSignatureOfScored(model.transformWithSql(data)) == model.signatures.get("output"))
    assert(model.inputSignature(data) == model.signatures.get("input"))
  }
}

package org.sparkpolicy.contract

import scala.jdk.CollectionConverters._

import org.apache.spark.sql.SparkSession
import org.scalatest.funsuite.AnyFunSuite
import org.sparkpolicy.{SparkTestSession, TestData}
import org.sparkpolicy.ml.PolicyTreeLearner
import org.sparkpolicy.ml.model.NodeTable

/** The same fit under local[1], local[2] and local[4]: different executor cores, parallelism and task counts. */
class ExecutorLayoutSuite extends AnyFunSuite {
  private def fitUnder(master: String): (Map[String, String], NodeTable) = {
    SparkSession.getActiveSession.foreach(_.stop())
    val spark = SparkTestSession.builder(master).config("spark.default.parallelism", master.filter(_.isDigit)).getOrCreate()
    try {
      val m = new PolicyTreeLearner()
        .setFeatureCols(TestData.HillstromFeatures).setTreatmentCol("segment").setOutcomeCol("visit").setRewardType("ipw").setMaxDepth(3)
        .fit(TestData.hillstrom(spark))
      (m.signatures.asScala.toMap, m.nodeTable)
    } finally spark.stop()
  }

  test("local[1], local[2] and local[4] learn the identical policy with identical signatures") {
    val runs = Seq("local[1]", "local[2]", "local[4]").map(m => m -> fitUnder(m))
    val (_, (sigs, table)) = runs.head
    runs.tail.foreach { case (master, (s, t)) =>
      withClue(s"$master: ") {
        assert(t == table)
        assert(s == sigs)
      }
    }
  }
}

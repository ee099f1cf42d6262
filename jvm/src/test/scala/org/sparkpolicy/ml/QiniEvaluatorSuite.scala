package org.sparkpolicy.ml

import scala.io.Source

import org.apache.spark.sql.DataFrame
import org.apache.spark.sql.functions._
import org.scalatest.funsuite.AnyFunSuite
import org.sparkpolicy.{SparkTestSession, TestData}

/** Qini curve and qini_auc_score against scikit-uplift 0.5.1 (tests/fixtures/qini, made by make_fixture.py). */
class QiniEvaluatorSuite extends AnyFunSuite with SparkTestSession {
  /** (case, metric) -> (index -> value) from expected.csv. */
  private lazy val expected: Map[(String, String), Map[Int, String]] = {
    val src = Source.fromFile(TestData.fixture("qini", "expected.csv").toFile, "UTF-8")
    try src.getLines().drop(1).map(_.split(",")).toSeq
      .groupBy(f => (f(0), f(1))).map { case (k, v) => k -> v.map(f => f(2).toInt -> f(3)).toMap }
    finally src.close()
  }

  private def closeRel(actual: Double, want: Double, what: String): Unit =
    assert(math.abs(actual - want) <= 1e-12 * math.abs(want), s"$what: $actual vs scikit-uplift $want")

  private def checkCase(name: String, r: QiniResult): Unit = {
    closeRel(r.qiniAucScore, expected((name, "qini_auc_score"))(-1).toDouble, s"$name qini_auc_score")
    assert(r.numTreatment == expected((name, "n_treatment"))(-1).toLong && r.numControl == expected((name, "n_control"))(-1).toLong)
    assert(r.model.n.length == expected((name, "curve_points"))(-1).toInt, s"$name: number of curve points")
    for ((kind, curve) <- Seq("curve" -> r.model, "perfect" -> r.perfect); (i, x) <- expected((name, s"${kind}_x"))) {
      assert(curve.n(i) == x.toLong, s"$name $kind point $i")
      val y = expected((name, s"${kind}_y"))(i).toDouble
      assert(curve.qini(i) == y || math.abs(curve.qini(i) - y) <= 1e-12 * math.abs(y), s"$name $kind point $i: ${curve.qini(i)} vs $y")
    }
  }

  private lazy val small: DataFrame =
    spark.read.option("header", "true").schema("score double, arm string, y int").csv(TestData.fixture("qini", "small.csv").toString).cache()

  private def smallEvaluator = new QiniEvaluator().setUpliftCol("score").setTreatmentCol("arm").setOutcomeCol("y")
    .setTreatmentArm("t").setControlArm("c")

  test("small data with tied scores and a third arm: curve, perfect curve and qini_auc_score equal scikit-uplift's") {
    val r = smallEvaluator.result(small)
    checkCase("small", r)
    assert(r.numExcluded == small.where(col("arm") === "x").count() && r.numExcluded > 0)
    assert(smallEvaluator.evaluate(small) == r.qiniAucScore)
    val s = smallEvaluator.summary(small).head()
    assert(s.getAs[Double]("qini_auc_score") == r.qiniAucScore && s.getAs[Long]("n_excluded") == r.numExcluded)
    val points = smallEvaluator.curve(small).where(col("curve") === "model").orderBy("point").collect()
    assert(points.map(_.getAs[Long]("n")).toSeq == r.model.n.toSeq && points.map(_.getAs[Double]("qini")).toSeq == r.model.qini.toSeq)
  }

  private lazy val hillstrom = TestData.hillstrom(spark).cache()
  private val scores = Seq(
    "recency" -> -col("recency").cast("double"),
    "mix" -> (col("womens") - col("mens") + lit(2) * col("newbie")).cast("double"),
    "history" -> col("history").cast("double"))

  for ((arm, tag) <- Seq("Mens E-Mail" -> "mens", "Womens E-Mail" -> "womens"); (scoreName, score) <- scores) {
    test(s"Hillstrom visit, $arm vs No E-Mail, score $scoreName: equals scikit-uplift") {
      val ev = new QiniEvaluator().setUpliftCol("u").setTreatmentCol("segment").setOutcomeCol("visit")
        .setTreatmentArm(arm).setControlArm("No E-Mail")
      val r = ev.result(hillstrom.withColumn("u", score))
      checkCase(s"hillstrom_${tag}_$scoreName", r)
      assert(r.numExcluded == (if (tag == "mens") 21387 else 21307)) // the other e-mail's rows
    }
  }

  test("order-independent: the same rows in any layout give bit-identical curves and scores") {
    val df = hillstrom.withColumn("u", col("history"))
    val ev = new QiniEvaluator().setUpliftCol("u").setTreatmentCol("segment").setOutcomeCol("spend")
      .setTreatmentArm("Mens E-Mail").setControlArm("No E-Mail")
    val a = ev.result(df)
    Seq(df.repartition(7), df.orderBy(rand(5)), df.coalesce(1)).foreach { layout =>
      val b = ev.result(layout)
      assert(b.qiniAucScore == a.qiniAucScore && b.model.qini.toSeq == a.model.qini.toSeq && b.perfect.qini.toSeq == a.perfect.qini.toSeq)
    }
  }

  test("the uplift can come from policy_scores: scores[treatment] − scores[control], arms named by the vocabulary") {
    val withScores = small.withColumn("policy_scores", array(lit(0.25), col("score") + lit(0.5), lit(0.5)))
    val viaScores = new QiniEvaluator().setTreatmentVocabulary(Array("x", "t", "c")).setTreatmentCol("arm").setOutcomeCol("y")
      .setTreatmentArm("t").setControlArm("c").evaluate(withScores)
    assert(viaScores == smallEvaluator.evaluate(small))
    val e = intercept[IllegalArgumentException](new QiniEvaluator().setTreatmentCol("arm").setOutcomeCol("y")
      .setTreatmentArm("t").setControlArm("c").evaluate(withScores))
    assert(e.getMessage.contains("treatmentVocabulary"), e.getMessage)
  }

  test("saves and loads like any Spark ML evaluator, Params intact") {
    val path = java.nio.file.Files.createTempDirectory("qini-evaluator").resolve("e").toString
    smallEvaluator.write.save(path)
    val loaded = QiniEvaluator.load(path)
    assert(loaded.getOrDefault(loaded.treatmentArm) == "t" && loaded.getOrDefault(loaded.upliftCol) == "score")
    assert(loaded.evaluate(small) == smallEvaluator.evaluate(small))
  }

  test("bad input is refused with a message") {
    val noControl = intercept[IllegalArgumentException](smallEvaluator.setControlArm("nobody").evaluate(small))
    assert(noControl.getMessage.contains("rows of both arms"), noControl.getMessage)
    val nan = intercept[IllegalArgumentException](smallEvaluator.evaluate(small.withColumn("score", lit(Double.NaN))))
    assert(nan.getMessage.contains("uplift score"), nan.getMessage)
  }
}

package org.sparkpolicy.examples

import java.nio.file.Files
import javax.imageio.ImageIO

import org.apache.spark.sql.DataFrame
import org.apache.spark.sql.functions._
import org.scalatest.funsuite.AnyFunSuite
import org.sparkpolicy.{SparkTestSession, TestData}
import org.sparkpolicy.ml.HashSplit

/** The `make hillstrom` pipeline on the real data at small cost: depth 2, `visit` only. */
class HillstromExampleSuite extends AnyFunSuite with SparkTestSession {
  private def pipeline(raw: DataFrame): (HillstromExample.PolicyResult, DataFrame) = {
    val features = HillstromExample.Features
    val (train, holdout) = HashSplit.trainTestSplit(raw, 0.7)
    val gammas = HillstromExample.holdoutRewards(holdout, features, "visit").cache()
    (HillstromExample.fitAndEvaluate(train, gammas, features, "visit", 2), gammas)
  }

  private lazy val raw = HillstromExample.read(spark, TestData.fixture("hillstrom", "hillstrom.csv.gz").toString).cache()
  private lazy val (result, gammas) = pipeline(raw)

  test("reads all 64,000 rows with typed columns; zip_code and channel enter the contract as categorical") {
    assert(raw.count() == 64000)
    assert(raw.where(col("zip_code") === "Surburban").count() == 28776 && raw.where(col("channel") === "Multichannel").count() == 7762)
    val categorical = result.model.contract.features.filter(_.isCategorical).map(f => f.name -> f.categories.get).toMap
    // Codes follow the labels' UTF-8 byte order ("Surburban" [sic], as in the data).
    assert(categorical == Map("zip_code" -> Seq("Rural", "Surburban", "Urban"), "channel" -> Seq("Multichannel", "Phone", "Web")))
  }

  test("holdout values are in sane ranges and the e-mails beat no e-mail by many standard errors") {
    val s = result.summary.map(r => r._1 -> r).toMap
    val n = gammas.count()
    assert(n > 18000 && n < 20500, n) // ~30% of 64,000
    Seq("policy", "always Mens E-Mail", "always Womens E-Mail", "always No E-Mail").foreach { k =>
      val (_, v, se, rows) = s(k)
      assert(v > 0.05 && v < 0.35 && se > 0 && se < 0.01 && rows == n, s"$k: $v ± $se (n=$rows)")
    }
    val (mens, none) = (s("always Mens E-Mail"), s("always No E-Mail"))
    assert(mens._2 - none._2 > 5 * math.hypot(mens._3, none._3), s"$mens vs $none")
    assert(result.model.bestArmOnTraining == "Mens E-Mail")
    assert(s.contains("policy - best arm (Mens E-Mail)") && s.contains("policy - baseline (No E-Mail)"))
    assert(math.abs(result.qiniMens) < 1 && math.abs(result.qiniWomens) < 1)
  }

  test("the evaluator's constant-arm and policy values equal the mean of Γ computed row by row") {
    val rows = result.model.transform(gammas).select("rewards", "policy_action_index").collect()
    val g = rows.map(_.getSeq[Double](0).toArray)
    val s = result.summary.map(r => r._1 -> r._2).toMap
    HillstromExample.Arms.zipWithIndex.foreach { case (arm, a) =>
      val mean = g.map(_(a)).sum / g.length
      assert(math.abs(s(s"always $arm") - mean) < 1e-9, s"$arm: ${s(s"always $arm")} vs $mean")
    }
    val policy = rows.map(r => r.getSeq[Double](0)(r.getInt(1))).sum / rows.length
    assert(math.abs(s("policy") - policy) < 1e-9)
  }

  test("deterministic: the same numbers when the input is repartitioned") {
    val (again, _) = pipeline(raw.repartition(7))
    assert(again.model.modelHash == result.model.modelHash)
    assert(again.summary == result.summary)
    assert(again.qiniMens == result.qiniMens && again.qiniWomens == result.qiniWomens)
  }

  test("the PNG writers produce decodable images with something drawn on them") {
    val dir = Files.createTempDirectory("hillstrom-png")
    HillstromExample.writeFigures(Seq(result), dir.toFile)
    Seq("hillstrom-tree-visit.png", "hillstrom-values.png").foreach { f =>
      val img = ImageIO.read(dir.resolve(f).toFile)
      assert(img != null && img.getWidth >= 400 && img.getHeight >= 100, f)
      val colours = (for (x <- 0 until img.getWidth by 3; y <- 0 until img.getHeight by 3) yield img.getRGB(x, y)).distinct
      assert(colours.size > 3, s"$f looks blank")
    }
  }
}

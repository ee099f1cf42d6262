package org.sparkpolicy.examples

import java.io.File

import org.apache.spark.sql.{DataFrame, SparkSession}
import org.apache.spark.storage.StorageLevel
import org.sparkpolicy.ml.{DoublyRobustScores, HashSplit, PolicyTreeLearner, PolicyTreeModel, PolicyValueEvaluator, QiniEvaluator}

/**
 * `make hillstrom`: the MineThatData e-mail experiment end to end (docs/hillstrom.md). Learns depth-2 and
 * depth-3 AIPW policy trees for `visit` and for `spend` on a 70/30 hash split, evaluates each on the
 * holdout with holdout-cross-fitted AIPW scores beside the three constant-arm policies, reports Qini AUCs
 * of the trees' uplift scores, prints the trees and writes the figures.
 *
 * Flags: --data PATH (tests/fixtures/hillstrom/hillstrom.csv.gz), --out DIR (docs), --depths 2,3,
 * --outcomes visit,spend, --master M (local[2]).
 */
object HillstromExample {
  val Arms: Array[String] = Array("Mens E-Mail", "Womens E-Mail", "No E-Mail")
  val Control = "No E-Mail"
  val NumericFeatures: Array[String] = Array("recency", "history", "mens", "womens", "newbie")

  private val Schema = "recency int, history_segment string, history double, mens int, womens int, zip_code string, " +
    "newbie int, channel string, segment string, visit int, conversion int, spend double"

  /** The CSV as typed columns (Spark reads the gzip, the quoted commas and the CRLF line ends itself). */
  def read(spark: SparkSession, path: String): DataFrame =
    spark.read.option("header", "true").schema(Schema).csv(path)

  /** String columns split natively as `category == c` vs the rest, codes in byte order in the contract. */
  val CategoricalFeatures: Array[String] = Array("zip_code", "channel")

  val Features: Array[String] = NumericFeatures ++ CategoricalFeatures

  /** One policy's holdout evaluation. */
  final case class PolicyResult(
      outcome: String,
      depth: Int,
      model: PolicyTreeModel,
      /** Summary rows: label -> (value, se, n). */
      summary: Seq[(String, Double, Double, Long)],
      qiniMens: Double,
      qiniWomens: Double) {
    def row(label: String): (String, Double, Double, Long) = summary.find(_._1 == label).get
    def actionShares: Seq[(String, Double)] = model.nodeTable.leaves.groupBy(_.arm).toSeq.sortBy(_._1)
      .map { case (a, ls) => model.getTreatmentVocabulary.apply(a) -> ls.map(_.count).sum.toDouble / model.nodeTable.root.count }
  }

  /** AIPW Γ for the holdout, cross-fitted on the holdout itself (never on the training rows). */
  def holdoutRewards(holdout: DataFrame, features: Array[String], outcome: String): DataFrame =
    new DoublyRobustScores().setFeatureCols(features).setTreatmentCol("segment").setOutcomeCol(outcome)
      .setTreatmentVocabulary(Arms).transform(holdout)

  def fitAndEvaluate(train: DataFrame, scoredHoldout: DataFrame, features: Array[String], outcome: String, depth: Int): PolicyResult = {
    val model = new PolicyTreeLearner().setFeatureCols(features).setTreatmentCol("segment").setOutcomeCol(outcome)
      .setTreatmentVocabulary(Arms).setMaxDepth(depth).fit(train)
    val scored = model.transform(scoredHoldout)
    val summary = new PolicyValueEvaluator().setRewardsCol("rewards").setModel(model).setBaselineArm(Control).summary(scored)
      .collect().map(r => (r.getString(0), r.getDouble(1), r.getDouble(2), r.getLong(5))).toSeq
    def qini(arm: String) = new QiniEvaluator().setModel(model).setTreatmentCol("segment").setOutcomeCol(outcome)
      .setTreatmentArm(arm).setControlArm(Control).evaluate(scored)
    PolicyResult(outcome, depth, model, summary, qini("Mens E-Mail"), qini("Womens E-Mail"))
  }

  def main(args: Array[String]): Unit = {
    val opts = LocalRun.options(args)
    val spark = LocalRun.session(opts.getOrElse("master", "local[2]"), "sparkpolicy-hillstrom")
      .config("spark.sql.shuffle.partitions", "4")
      .getOrCreate()
    spark.sparkContext.setLogLevel("WARN")
    try run(spark, opts.getOrElse("data", "tests/fixtures/hillstrom/hillstrom.csv.gz"), new File(opts.getOrElse("out", "docs")),
      opts.getOrElse("depths", "2,3").split(",").map(_.trim.toInt).toSeq, opts.getOrElse("outcomes", "visit,spend").split(",").map(_.trim).toSeq)
    finally spark.stop()
  }

  def run(spark: SparkSession, path: String, out: File, depths: Seq[Int], outcomes: Seq[String]): Seq[PolicyResult] = {
    val (data, features) = (read(spark, path), Features)
    val (train, holdout) = HashSplit.trainTestSplit(data, 0.7)
    train.persist(StorageLevel.MEMORY_AND_DISK)
    println(s"Hillstrom: ${train.count()} training rows, ${holdout.count()} holdout rows (70/30 hash split of all columns)")
    println(s"features: ${features.mkString(", ")}")
    val results = outcomes.flatMap { outcome =>
      val gammas = holdoutRewards(holdout, features, outcome).persist(StorageLevel.MEMORY_AND_DISK)
      val rs = depths.map(d => fitAndEvaluate(train, gammas, features, outcome, d))
      gammas.unpersist()
      rs
    }
    results.foreach { r =>
      println(s"\n=== ${r.outcome}, depth ${r.depth} (AIPW, best arm on training: ${r.model.bestArmOnTraining}) ===")
      println(r.model.toDebugString)
      println(r.actionShares.map { case (a, s) => f"$a ${100 * s}%.1f%%" }.mkString("training rows per action: ", ", ", ""))
      r.summary.foreach { case (label, v, se, n) => println(f"  $label%-40s $v%10.5f ± $se%.5f  (n=$n)") }
      println(f"  Qini AUC (scikit-uplift normalization): Mens vs No E-Mail ${r.qiniMens}%.4f, Womens vs No E-Mail ${r.qiniWomens}%.4f")
    }
    writeFigures(results, out)
    train.unpersist()
    results
  }

  def writeFigures(results: Seq[PolicyResult], out: File): Unit = {
    results.groupBy(_.outcome).foreach { case (outcome, rs) =>
      val r = rs.maxBy(_.depth)
      val file = new File(out, s"hillstrom-tree-$outcome.png")
      Charts.tree(r.model.nodeTable, r.model.getFeatureCols.toSeq, r.model.getTreatmentVocabulary.toSeq,
        s"Hillstrom: depth-${r.depth} AIPW policy tree for $outcome (left = yes)", file)
      println(s"wrote $file")
    }
    val panels = results.map(_.outcome).distinct.map { outcome =>
      val rs = results.filter(_.outcome == outcome).sortBy(_.depth)
      val trees = rs.map { r => val (_, v, se, _) = r.row("policy"); Charts.Bar(s"tree, depth ${r.depth}", v, se, accent = true) }
      val constant = Arms.map { a => val (_, v, se, _) = rs.head.row(s"always $a"); Charts.Bar(s"always $a", v, se) }
      Charts.Panel(s"$outcome (holdout)", if (outcome == "spend") "mean spend per customer ($)" else s"mean $outcome per customer", trees ++ constant)
    }
    val file = new File(out, "hillstrom-values.png")
    Charts.bars(panels, "Hillstrom: holdout policy values (AIPW, cross-fitted on the holdout)", file)
    println(s"wrote $file")
  }
}

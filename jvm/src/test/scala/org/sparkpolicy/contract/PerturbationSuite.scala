package org.sparkpolicy.contract

import scala.jdk.CollectionConverters._

import org.apache.spark.sql.DataFrame
import org.apache.spark.sql.functions._
import org.apache.spark.storage.StorageLevel
import org.scalatest.funsuite.AnyFunSuite
import org.sparkpolicy.{SparkTestSession, TestData}
import org.sparkpolicy.synthetic.PlantedPolicyData
import org.sparkpolicy.ml.{PolicyTreeLearner, PolicyTreeModel}
import org.sparkpolicy.ml.model.NodeTable
import org.sparkpolicy.train.{FaultInjection, TreeSettings}

/**
 * The semantic contract under perturbation: the same rows, feature order, vocabulary, manifest and
 * boundaries must give bit-identical signatures and node tables whatever Spark does to the layout.
 * Master local[2,2] lets local mode retry a task, for the injected-failure perturbations.
 */
class PerturbationSuite extends AnyFunSuite with SparkTestSession {
  override protected def master: String = "local[2,2]"

  /** A fit's signatures and node table, and the output signature of the SQL backend on the same rows. */
  private final case class Fit(signatures: Map[String, String], table: NodeTable, model: PolicyTreeModel, sqlOutput: String)

  private def fit(learner: PolicyTreeLearner, df: DataFrame): Fit = {
    val m = learner.fit(df)
    Fit(m.signatures.asScala.toMap, m.nodeTable, m, m.outputSignatureOfScored(m.transformWithSql(df)))
  }

  /** Named perturbations of the input (and of the session's settings, restored afterwards). */
  private def perturbations(base: DataFrame): Seq[(String, () => DataFrame, () => Unit, () => Unit)] = {
    def p(name: String, f: => DataFrame) = (name, () => f, () => (), () => ())
    def withConf(name: String, key: String, value: String) = {
      var previous: Option[String] = None
      (name, () => base,
        () => { previous = spark.conf.getOption(key); spark.conf.set(key, value) },
        () => previous.fold(spark.conf.unset(key))(spark.conf.set(key, _)))
    }
    def withFault(stage: String) =
      (s"first attempt of the $stage task fails and is retried", () => base,
        () => FaultInjection.armedStage = Some(stage), () => FaultInjection.armedStage = None)
    val reversed = base.columns.reverse.toSeq.map(c => col(s"`$c`"))
    val pieces = base.randomSplit(Array(0.3, 0.3, 0.4), seed = 11)
    Seq(
      p("repartition(1)", base.repartition(1)),
      p("repartition(2)", base.repartition(2)),
      p("repartition(7)", base.repartition(7)),
      p("repartition(64)", base.repartition(64)),
      p("coalesce(1)", base.coalesce(1)),
      p("random row order", base.orderBy(rand(42))),
      p("split into pieces, unioned back in another order", pieces(2).union(pieces(0)).union(pieces(1))),
      p("all rows in one partition plus 15 empty ones", base.repartition(16, lit(1))),
      p("range-partitioned on a feature", base.repartitionByRange(5, col(base.columns.head))),
      p("columns in reverse order", base.select(reversed: _*)),
      p("union with an empty frame", base.union(base.limit(0)).repartition(3)),
      p("cached input", base.repartition(4).persist(StorageLevel.MEMORY_ONLY)),
      p("input persisted to disk", base.repartition(5).persist(StorageLevel.DISK_ONLY)),
      withConf("adaptive execution off", "spark.sql.adaptive.enabled", "false"),
      withConf("one shuffle partition", "spark.sql.shuffle.partitions", "1"),
      withConf("200 shuffle partitions", "spark.sql.shuffle.partitions", "200"),
      withConf("sibling subtraction off (every node's histogram built)", TreeSettings.SiblingSubtractionConf, "false"),
      withFault("binning"),
      withFault("histograms"))
  }

  private def assertInvariant(name: String, base: DataFrame, learner: () => PolicyTreeLearner): Unit = {
    val reference = fit(learner(), base)
    val variants = perturbations(base).map { case (label, data, setUp, tearDown) =>
      setUp()
      try label -> fit(learner(), data()) finally tearDown()
    } ++ Seq(
      "scoring batches of 1,024 rows" -> fit(learner().setScoringBatchSize(1024), base.repartition(3)),
      "scoring batches of 65,536 rows" -> fit(learner().setScoringBatchSize(65536), base.repartition(3)),
      "2 native threads per task" -> fit(learner().setNativeThreads(2), base.repartition(3)))
    assert(variants.size >= 20)
    variants.foreach { case (label, f) =>
      withClue(s"[$name] $label: ") {
        assert(f.table == reference.table)
        assert(f.signatures == reference.signatures)
        // The SQL-expression backend scores the same rows to the same bits as the native scorer.
        assert(f.sqlOutput == reference.signatures("output"), "SQL backend output signature")
      }
    }
    assert(reference.sqlOutput == reference.signatures("output"))
    info(s"$name: ${variants.size} perturbations + SQL backend, model ${reference.signatures("model").take(12)}…, " +
      s"${reference.table.numNodes} nodes")
  }

  private lazy val synthetic = TestData.syntheticWithMissing(spark, 20000).cache()
  private lazy val hillstrom = TestData.hillstrom(spark).cache()

  test("synthetic data (with nulls and NaNs): identical model, decisions, output and node table under every perturbation") {
    assertInvariant("synthetic", synthetic, () => new PolicyTreeLearner()
      .setFeatureCols(PlantedPolicyData.featureNames(6)).setRewardCols(Array("g0", "g1", "g2")).setMaxDepth(3))
  }

  test("Hillstrom (numeric columns, spend, IPW): identical model, decisions, output and node table under every perturbation") {
    assertInvariant("hillstrom", hillstrom, () => new PolicyTreeLearner()
      .setFeatureCols(TestData.HillstromFeatures).setTreatmentCol("segment").setOutcomeCol("spend").setRewardType("ipw").setMaxDepth(3)
      .setBoundarySampleSize(20000)) // smaller than the data, so the hash sample is exercised
  }

  test("more partitions than rows: empty tasks change nothing") {
    val tiny = PlantedPolicyData.generate(spark, 300, 4, numPartitions = 1).cache()
    val learner = () => new PolicyTreeLearner().setFeatureCols(PlantedPolicyData.featureNames(4))
      .setRewardCols(Array("g0", "g1", "g2")).setMaxDepth(3)
    val a = fit(learner(), tiny)
    val b = fit(learner(), tiny.repartition(500))
    assert(b.table == a.table && b.signatures == a.signatures)
  }

  // ---- the converse: a real change shows in the right signature --------------------------------

  private def hillstromLearner = new PolicyTreeLearner()
    .setFeatureCols(TestData.HillstromFeatures).setTreatmentCol("segment").setOutcomeCol("spend").setRewardType("ipw").setMaxDepth(2)

  test("dropping one row changes the input signature") {
    val m = hillstromLearner.fit(hillstrom)
    val oneLess = hillstrom.where(!(col("recency") === 10 && col("history") === 142.44 && col("segment") === "Womens E-Mail"))
    assert(oneLess.count() == hillstrom.count() - 1)
    assert(m.inputSignature(oneLess) != m.signatures.get("input"))
    assert(m.inputSignature(hillstrom.repartition(9)) == m.signatures.get("input"))
  }

  test("swapping two feature columns changes the manifest signature") {
    val a = hillstromLearner.fit(hillstrom)
    val b = hillstromLearner.setFeatureCols(Array("history", "recency", "mens", "womens", "newbie")).fit(hillstrom)
    assert(a.signatures.get("manifest") != b.signatures.get("manifest"))
  }

  test("reordering the vocabulary changes the manifest and permutes the scores accordingly") {
    val a = hillstromLearner.fit(hillstrom)
    val vocab = a.getTreatmentVocabulary
    val b = hillstromLearner.setTreatmentVocabulary(vocab.reverse).fit(hillstrom)
    assert(b.getTreatmentVocabulary.toSeq == vocab.reverse.toSeq)
    assert(a.signatures.get("manifest") != b.signatures.get("manifest"))
    val cols = Seq("policy_action", "policy_scores", "policy_leaf")
    val sa = a.transform(hillstrom).select(cols.map(col): _*).collect()
    val sb = b.transform(hillstrom).select(cols.map(col): _*).collect()
    sa.zip(sb).foreach { case (x, y) =>
      assert(x.getString(0) == y.getString(0))
      assert(x.getSeq[Double](1) == y.getSeq[Double](1).reverse)
      assert(x.getInt(2) == y.getInt(2))
    }
  }

  test("perturbed locked boundaries change the boundaries signature") {
    val a = hillstromLearner.fit(hillstrom)
    val nudged = a.splitBoundaries.clone()
    nudged(1) = nudged(1).map(_ + 0.001)
    val b = hillstromLearner.setBoundaries(nudged).fit(hillstrom)
    assert(a.signatures.get("boundaries") != b.signatures.get("boundaries"))
    val same = hillstromLearner.setBoundaries(a.splitBoundaries).fit(hillstrom.repartition(5))
    assert(same.signatures.get("boundaries") == a.signatures.get("boundaries"))
    assert(same.nodeTable == a.nodeTable)
  }

  test("signatures has exactly the six keys, and the contract round-trips through its JSON") {
    val m = hillstromLearner.fit(hillstrom)
    assert(m.signatures.keySet().asScala.toSeq == Signatures.Keys)
    assert(m.signatures.values().asScala.forall(_.matches("[0-9a-f]{64}")))
    val again = Contract.fromJson(m.contract.toJson)
    assert(again == m.contract && again.manifestSignature == m.signatures.get("manifest"))
  }

  test("the decision log records each node's gain and runner-up") {
    val m = hillstromLearner.fit(hillstrom)
    val root = m.trainingLog.head
    assert(root.node == 1 && root.split && root.gain > 0 && root.rows == 64000)
    assert(root.runnerUpFeature >= 0 && root.runnerUpFeature != root.feature && root.runnerUpGain <= root.gain)
    assert(m.trainingLog.map(_.node) == m.trainingLog.map(_.node).sorted.distinct)
  }

  test("the schema guard names a feature whose type differs from the contract") {
    val m = hillstromLearner.fit(hillstrom)
    val e = intercept[IllegalArgumentException](m.transform(hillstrom.withColumn("recency", col("recency").cast("double"))))
    assert(e.getMessage.contains("feature column 'recency' has type double but the model's contract says int"), e.getMessage)
  }
}

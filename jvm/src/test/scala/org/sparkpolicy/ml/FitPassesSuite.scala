package org.sparkpolicy.ml

import java.nio.file.Files
import java.util.concurrent.atomic.AtomicLong

import scala.jdk.CollectionConverters._

import org.apache.spark.SparkEnv
import org.apache.spark.sql.DataFrame
import org.apache.spark.sql.functions._
import org.apache.spark.sql.sparkpolicy.InternalFrames
import org.scalatest.funsuite.AnyFunSuite
import org.sparkpolicy.{SparkTestSession, TestData}
import org.sparkpolicy.bench.BenchSupport.deleteRecursively
import org.sparkpolicy.contract.Signatures
import org.sparkpolicy.synthetic.PlantedPolicyData
import org.sparkpolicy.train.{AipwSettings, BinnedBlocks, Boundaries, Categories, ColumnarInput, InputPersistence, InputSpec, PassOptions, SearchGrid, TrainingData}

/**
 * Issue #12: a fit reads its input rows at most twice — the validation pass (which also signs the input
 * and draws the boundary sample) and the binning pass — and signs its training output from the blocks.
 * The input is a Parquet copy read through a source that counts every partition it computes. With the
 * learner's persisted projection (the default) the source itself is read once and the projection once
 * more; with `PersistInputConf = false` every pass over the rows reads the source, so the count is the
 * number of row passes. Either way the signatures and boundaries are those computed the old way: a
 * separate sample pass, SQL input signature, and the output signature of the scored training rows.
 */
class FitPassesSuite extends AnyFunSuite with SparkTestSession {
  private lazy val dir = Files.createTempDirectory("sparkpolicy-fit-passes")

  override def afterAll(): Unit = try deleteRecursively(dir) finally super.afterAll()

  /** Synthetic rows with nulls and NaNs, a categorical feature and a treatment with a few null labels, in 4 Parquet files. */
  private lazy val parquet: String = {
    val path = dir.resolve("data").toString
    TestData.syntheticWithMissing(spark, 6000)
      .withColumn("region", concat(lit("r"), (col("id") % 5).cast("string")))
      .withColumn("treatment", when(col("id") % 997 === 3, lit(null).cast("string")).otherwise(col("treatment")))
      .repartition(4).write.parquet(path)
    path
  }

  /** The Parquet input through a source that counts the partitions it computes. */
  private def countingSource(): (DataFrame, () => Double) = {
    val df = spark.read.parquet(parquet)
    val counter = FitPassesSuite.register()
    val rows = df.queryExecution.toRdd.mapPartitions { it => FitPassesSuite.counters.get(counter).incrementAndGet(); it }
    val counted = InternalFrames.fromInternalRows(spark, rows, df.schema)
    val parts = counted.rdd.getNumPartitions
    (counted, () => FitPassesSuite.counters.get(counter).get().toDouble / parts)
  }

  private def withConf[T](key: String, value: String)(body: => T): T = {
    val previous = spark.conf.getOption(key)
    spark.conf.set(key, value)
    try body finally previous.fold(spark.conf.unset(key))(spark.conf.set(key, _))
  }

  private val features = PlantedPolicyData.featureNames(6) :+ "region"

  private def given = new PolicyTreeLearner().setFeatureCols(features).setRewardCols(Array("g0", "g1", "g2")).setMaxDepth(3)
    .setBoundarySampleSize(2500) // smaller than the data, so the sample's rate is below 1

  private def ipw = new PolicyTreeLearner().setFeatureCols(features).setTreatmentCol("treatment").setOutcomeCol("outcome")
    .setRewardType("ipw").setHandleInvalid("skip").setMaxDepth(3).setBoundarySampleSize(2500)

  /** Fits on a fresh counting source; returns the model and the source scans the fit made. */
  private def fitCounted(learner: PolicyTreeLearner): (PolicyTreeModel, Double, DataFrame) = {
    val (source, scans) = countingSource()
    val model = learner.fit(source)
    (model, scans(), source)
  }

  private def specOf(learner: PolicyTreeLearner): InputSpec =
    InputSpec(learner.getFeatureCols, learner.get(learner.treatmentCol), learner.get(learner.rewardCols),
      learner.get(learner.outcomeCol), None, learner.get(learner.rewardType), None, None, learner.getHandleInvalid,
      AipwSettings.defaults(256, 1), learner.getCategoricalCols)

  /** The signatures and boundaries as computed before issue #12, each by a pass of its own. */
  private def assertSameAsOldWay(model: PolicyTreeModel, learner: PolicyTreeLearner, data: DataFrame): Unit = {
    assert(model.signatures.get("input") == Signatures.input(data, model.contract), "input signature")
    assert(model.signatures.get("output") == model.outputSignature(data), "output signature (native scoring)")
    assert(model.signatures.get("output") == model.outputSignatureOfScored(model.transformWithSql(data)), "output signature (SQL)")
    val prepared = TrainingData.prepare(data, specOf(learner))
    // Exact thresholds (the default) place the fine boundaries: up to SearchGrid.fineBins per feature, not maxBins.
    val refines = learner.getThresholdSearch == "exact" && learner.getBoundaryStrategy == "exact"
    val valueBins = if (refines) SearchGrid.fineBins(learner.getMaxBins, learner.getFeatureCols.length) else learner.getMaxBins
    val old = Categories.withCodeEdges(Boundaries.compute(prepared, valueBins, learner.getBoundarySampleSize),
      prepared.categories, learner.getFeatureCols, locked = false)
    assert(model.splitBoundaries.map(_.toSeq).toSeq == old.map(_.toSeq).toSeq, "boundaries")
  }

  test("a given-reward fit reads the source once with the persisted projection, twice without it; signatures as before") {
    val (persisted, once, _) = fitCounted(given)
    assert(once == 1.0, s"source scans with the persisted projection: $once")
    val (direct, twice, source) = withConf(PolicyTreeLearner.PersistInputConf, "false")(fitCounted(given))
    assert(twice <= 2.0, s"source scans without the projection (= passes over the rows): $twice")
    info(s"given rewards: $once source scan with the persisted projection, $twice without it")
    assert(direct.signatures.asScala == persisted.signatures.asScala && direct.nodeTable == persisted.nodeTable)
    assert(persisted.depth >= 2)
    assertSameAsOldWay(persisted, given, source)
  }

  test("with numeric features only, the blocks' row keys are hashed from their values: the same output signature") {
    val numeric = given.setFeatureCols(PlantedPolicyData.featureNames(6))
    val f0 = numeric.getFeatureCols.head
    // -0.0 beside 0.0, nulls and NaNs (from the data): the key's canonical form in every case.
    val data = spark.read.parquet(parquet).withColumn(f0, when(col("id") % 11 === 0, lit(-0.0)).when(col("id") % 13 === 0, lit(0.0))
      .otherwise(col(f0)))
    val model = numeric.fit(data)
    assertSameAsOldWay(model, numeric, data)
  }

  test("from Parquet the passes read the source's column vectors: the same model and signatures as from rows") {
    val path = dir.resolve("typed").toString
    val base = spark.read.parquet(parquet)
    val Array(f0, f1, f2, f3) = PlantedPolicyData.featureNames(4)
    // Features of every numeric type, with the special doubles and nulls written into the file itself.
    base.select(col("id"), when(col("id") % 11 === 0, lit(-0.0)).when(col("id") % 13 === 0, lit(Double.NaN)).otherwise(col(f0)).as(f0),
      (col(f1) * 1000).cast("int").as(f1), (col(f2) * 1e6).cast("long").as(f2), col(f3).cast("float").as(f3),
      col("g0"), col("g1"), col("g2")).write.parquet(path)
    val typed = spark.read.parquet(path)
    val learner = given.setFeatureCols(Array(f0, f1, f2, f3))
    // The frame the binning pass reads is a projected columnar source.
    val prepared = TrainingData.prepare(typed, specOf(learner))
    val blockColumns = (0 until 4).map(TrainingData.featureName) ++ (0 until 3).map(TrainingData.rewardName)
    assert(ColumnarInput.batches(prepared.frame.select(blockColumns.map(col): _*)).isDefined)
    val fromVectors = withConf(PolicyTreeLearner.PersistInputConf, "false")(learner.fit(typed))
    val fromRows = withConf(PolicyTreeLearner.PersistInputConf, "false")(withConf(ColumnarInput.Conf, "false")(learner.fit(typed)))
    assert(fromVectors.signatures.asScala == fromRows.signatures.asScala)
    assert(fromVectors.nodeTable == fromRows.nodeTable && fromVectors.depth >= 2)
    assertSameAsOldWay(fromVectors, learner, typed)
  }

  test("an IPW fit that drops rows (handleInvalid = skip) reads the rows twice and signs every input row") {
    val (model, scans, _) = withConf(PolicyTreeLearner.PersistInputConf, "false")(fitCounted(ipw))
    assert(model.trainingSummary.numDroppedRows > 0)
    // Rows the blocks leave out are scored for the output signature: one more pass, over those rows only.
    assert(scans <= 3.0, s"source scans: $scans")
    val (persisted, once, source) = fitCounted(ipw)
    assert(once == 1.0, s"source scans with the persisted projection: $once")
    assert(persisted.signatures.asScala == model.signatures.asScala)
    assertSameAsOldWay(persisted, ipw, source)
  }

  test("an IPW fit without dropped rows reads the rows twice") {
    val learner = ipw.setHandleInvalid("error")
    val data = spark.read.parquet(parquet).where(col("treatment").isNotNull)
    val counter = FitPassesSuite.register()
    val rows = data.queryExecution.toRdd.mapPartitions { it => FitPassesSuite.counters.get(counter).incrementAndGet(); it }
    val source = InternalFrames.fromInternalRows(spark, rows, data.schema)
    val model = withConf(PolicyTreeLearner.PersistInputConf, "false")(learner.fit(source))
    val scans = FitPassesSuite.counters.get(counter).get().toDouble / source.rdd.getNumPartitions
    assert(scans <= 2.0, s"source scans: $scans")
    assertSameAsOldWay(model, learner, data)
  }

  test("an AIPW fit reads the source once with the persisted projection; signatures as before") {
    val learner = new PolicyTreeLearner().setFeatureCols(features).setTreatmentCol("treatment").setOutcomeCol("outcome")
      .setHandleInvalid("skip").setMaxDepth(2).setOutcomeMaxDepth(2).setCrossFitFolds(2).setBoundarySampleSize(2500)
    val (model, once, source) = fitCounted(learner)
    assert(once == 1.0, s"source scans with the persisted projection: $once")
    assert(model.trainingSummary.phaseMillis.contains("aipw"))
    val (_, direct, _) = withConf(PolicyTreeLearner.PersistInputConf, "false")(fitCounted(learner))
    info(s"AIPW: $once source scan with the persisted projection, $direct without it")
    assertSameAsOldWay(model, learner, source)
  }

  test("persistInput auto: files, cached and local rows are read twice, anything else is persisted; same model either way") {
    val files = spark.read.parquet(parquet)
    assert(!InputPersistence.persists(files.select(col("x0"), (col("x1") * 2).as("y")).where(col("x2") > 0)))
    val cached = files.where(col("x0") > 0.1).cache()
    try assert(!InputPersistence.persists(cached.select("x0"))) finally cached.unpersist(blocking = true)
    assert(!InputPersistence.persists(spark.range(10).toDF()))
    assert(!InputPersistence.persists(spark.createDataFrame(Seq(Tuple1(1.0), Tuple1(2.0))).toDF("x")))
    val (counted, _) = countingSource()
    assert(InputPersistence.persists(counted), "an RDD of rows may be costly or change between reads")
    assert(InputPersistence.persists(files.select(rand(3).as("r"))), "a nondeterministic column")
    assert(InputPersistence.persists(files.join(files.select("x0"), "x0")), "a join")
    withConf(PolicyTreeLearner.PersistInputConf, "true")(assert(InputPersistence.persists(files)))
    withConf(PolicyTreeLearner.PersistInputConf, "false")(assert(!InputPersistence.persists(counted)))
    val bad = intercept[IllegalArgumentException](withConf(PolicyTreeLearner.PersistInputConf, "sometimes")(given.fit(files)))
    assert(bad.getMessage.contains("spark.sparkpolicy.fit.persistInput") && bad.getMessage.contains("'sometimes'"), bad.getMessage)
    val auto = given.fit(files)
    val copied = withConf(PolicyTreeLearner.PersistInputConf, "true")(given.fit(files))
    assert(auto.signatures.asScala == copied.signatures.asScala && auto.nodeTable == copied.nodeTable)
  }

  test("the blocks' task binary does not carry the fine edges: they are broadcast") {
    // Every stage that reads the blocks (levels, refinement, output signature) ships the blocks' lineage;
    // exact thresholds give up to 2^20 fine edges (8 MB), which must not ride in each task.
    val data = TrainingData.prepare(spark.read.parquet(parquet), specOf(given), options = PassOptions(signRows = true))
    val edges = Array.fill(features.length)(Array.tabulate(150000)(_.toDouble)) // 8.4 MB of edges
    val keyed = BinnedBlocks.buildKeyed(data, edges, 20)
    val taskBinary = SparkEnv.get.closureSerializer.newInstance().serialize(keyed).limit()
    assert(taskBinary < (256 << 10), s"the blocks' lineage serializes to $taskBinary bytes")
  }

  test("the training summary reports the phases in order, and they survive save and load") {
    val (model, _, _) = fitCounted(given)
    val phases = model.trainingSummary.phaseMillis
    assert(phases.keys.toSeq == Seq("validate", "boundaries", "binning", "levels", "signatures"), phases)
    assert(phases.values.forall(_ >= 0))
    val path = dir.resolve("model").toString
    model.write.overwrite().save(path)
    assert(PolicyTreeModel.load(path).trainingSummary.phaseMillis == phases)
  }
}

object FitPassesSuite {
  /** Partition counters of the counting sources, by index (executors share the test JVM in local mode). */
  val counters = new java.util.concurrent.CopyOnWriteArrayList[AtomicLong]()

  def register(): Int = counters.synchronized { counters.add(new AtomicLong); counters.size - 1 }
}

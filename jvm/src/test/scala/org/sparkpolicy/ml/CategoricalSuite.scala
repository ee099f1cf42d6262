package org.sparkpolicy.ml

import java.nio.file.Files

import scala.jdk.CollectionConverters._

import org.apache.spark.ml.param.ParamMap
import org.apache.spark.sql.DataFrame
import org.apache.spark.sql.functions._
import org.scalatest.funsuite.AnyFunSuite
import org.sparkpolicy.{SparkTestSession, TestData}

/** Categorical features: planted recovery, one-vs-rest splits, unseen labels, both backends, layouts, persistence, errors. */
class CategoricalSuite extends AnyFunSuite with SparkTestSession {
  private val labels = Seq("a", "b", "c", "d")

  /**
   * Arm 1 pays 1 exactly where region == "b" or region is null, arm 0 pays 0.5 everywhere: no threshold
   * on the codes (a < b < c < d) isolates "b", a category split does. `x` is a noise feature before it.
   */
  private lazy val data: DataFrame = spark.range(6000).select(
    col("id"),
    ((col("id") * 7919L) % 1000L / 1000.0).as("x"),
    when(col("id") % 17 === 0, lit(null).cast("string"))
      .otherwise(element_at(typedLit(labels), ((col("id") * 31L) % 4L + 1L).cast("int"))).as("region"))
    .withColumn("g0", lit(0.5) + (col("id") % 7L) / 1000.0)
    .withColumn("g1", when(col("region").isNull || col("region") === "b", 1.0).otherwise(0.0))
    .repartition(3).cache()

  private def learner = new PolicyTreeLearner()
    .setFeatureCols(Array("x", "region")).setRewardCols(Array("g0", "g1")).setMaxDepth(2).setMinNodeSize(5)

  private lazy val model = learner.fit(data)

  test("recovers the planted policy region == \"b\" (or missing) exactly, as a categorical split") {
    val root = model.nodeTable.root
    assert(!root.isLeaf && root.feature == 1 && root.categorical, model.toDebugString)
    assert(root.threshold == 1.0 && root.missingLeft, model.toDebugString)
    assert(model.contract.features(1).kind == "categorical" && model.contract.features(1).categories.contains(labels))
    assert(model.contract.manifestJson.contains("\"categories\":[\"a\",\"b\",\"c\",\"d\"]"))
    assert(model.splitBoundaries(1).toSeq == Seq(0.0, 1.0, 2.0, 3.0))
    assert(model.toDebugString.contains("If (region == \"b\" or missing)"), model.toDebugString)
    assert(model.toDebugString.contains("Else (region != \"b\")"), model.toDebugString)
    val scored = model.transform(data).select(col("region"), col("policy_action_index")).collect()
    scored.foreach { r =>
      val planted = if (r.isNullAt(0) || r.getString(0) == "b") 1 else 0
      assert(r.getInt(1) == planted, r)
    }
  }

  test("unseen labels follow the split's missing side, are counted, and both backends agree bit for bit") {
    val unseen = spark.range(50).select(col("id"), lit(0.25).as("x"), concat(lit("new-"), col("id").cast("string")).as("region"),
      lit(0.5).as("g0"), lit(0.0).as("g1"))
    val test = data.unionByName(unseen)
    // The accumulator counts every computation of the output: compute it once (cached), then read.
    val scored = model.transform(test).cache()
    assert(scored.count() == 6050)
    assert(model.unseenCategoryCount == 50)
    val unseenLeaves = scored.where(col("region").startsWith("new-")).select("policy_leaf").distinct().collect().map(_.getInt(0))
    val nullLeaves = scored.where(col("region").isNull).select("policy_leaf").distinct().collect().map(_.getInt(0))
    assert(unseenLeaves.toSeq == nullLeaves.toSeq && unseenLeaves.length == 1)
    assert(model.unseenCategoryCount == 50)
    scored.unpersist()
    assert(model.outputSignature(test) == model.outputSignatureOfScored(model.transformWithSql(test)))
    val cols = Seq("id", "policy_action", "policy_action_index", "policy_scores", "policy_leaf").map(col)
    assert(model.transform(test).select(cols: _*).orderBy("id").collect().toSeq ==
      model.transformWithSql(test).select(cols: _*).orderBy("id").collect().toSeq)
  }

  test("a streaming transform (Row path) maps labels like the batch path, unseen ones included") {
    val dir = Files.createTempDirectory("sparkpolicy-cat-stream").resolve("in").toString
    data.select("id", "x", "region").unionByName(spark.range(6000, 6020).select(col("id"), lit(0.5).as("x"), lit("zzz").as("region")))
      .repartition(4).write.parquet(dir)
    val stream = spark.readStream.schema(spark.read.parquet(dir).schema).parquet(dir)
    val query = model.transform(stream).writeStream.format("memory").queryName("scored_categorical")
      .trigger(org.apache.spark.sql.streaming.Trigger.AvailableNow()).start()
    query.awaitTermination()
    val cols = Seq("id", "policy_action", "policy_action_index", "policy_scores", "policy_leaf").map(col)
    val streamed = spark.table("scored_categorical").select(cols: _*).orderBy("id").collect()
    assert(streamed.length == 6020)
    assert(streamed.toSeq == model.transform(spark.read.parquet(dir)).select(cols: _*).orderBy("id").collect().toSeq)
  }

  test("the model and all six signatures are identical under repartition and coalesce") {
    val base = model.signatures.asScala
    Seq(data.repartition(7), data.coalesce(1), data.orderBy(rand(3))).foreach { d =>
      val m = learner.fit(d)
      assert(m.signatures.asScala == base)
      assert(m.nodeTable == model.nodeTable)
    }
  }

  test("a locked contract fixes the category codes: the same tree, even when a label is missing from the new data") {
    val locked = new PolicyTreeLearner().setContract(model.contract).setRewardCols(Array("g0", "g1")).setMaxDepth(2).setMinNodeSize(5)
    assert(locked.getCategoricalCols.toSeq == Seq("region"))
    assert(locked.fit(data.repartition(5)).nodeTable == model.nodeTable)
    val withoutA = locked.fit(data.where(col("region").isNull || col("region") =!= "a"))
    assert(withoutA.contract.features(1).categories == model.contract.features(1).categories)
    assert(withoutA.nodeTable.root.threshold == 1.0 && withoutA.nodeTable.root.categorical, withoutA.toDebugString)
  }

  test("save and load keep the categorical split, contract and outputs (format 2)") {
    val path = Files.createTempDirectory("sparkpolicy-cat").resolve("model").toString
    model.write.save(path)
    val loaded = PolicyTreeModel.load(path)
    assert(loaded.signatures.asScala == model.signatures.asScala)
    assert(loaded.nodeTable == model.nodeTable && loaded.contract == model.contract)
    assert(loaded.toDebugString == model.toDebugString)
    assert(loaded.outputSignature(data.repartition(5)) == model.signatures.get("output"))
    val meta = spark.read.text(path + "/metadata").head().getString(0)
    assert(meta.contains("\"formatVersion\":2"))
  }

  test("a numeric column listed in categoricalCols is coded by its value; categoryOrders fixes the codes") {
    val d = data.withColumn("grp", (col("id") % 3L).cast("int"))
      .withColumn("g1", when(col("grp") === 1, 1.0).otherwise(0.0))
    val m = learner.setFeatureCols(Array("x", "grp")).setCategoricalCols(Array("grp"))
      .setCategoryOrders(Map("grp" -> Array("2", "1", "0"))).setMaxDepth(1).fit(d)
    assert(m.contract.features(1).categories.contains(Seq("2", "1", "0")))
    val root = m.nodeTable.root
    assert(root.categorical && root.feature == 1 && root.threshold == 1.0, m.toDebugString)
    assert(m.toDebugString.contains("grp == \"1\""), m.toDebugString)
    assert(m.outputSignature(d) == m.outputSignatureOfScored(m.transformWithSql(d)))
  }

  test("AIPW rewards with categorical Hillstrom columns: the outcome trees take them too, backends agree") {
    val h = TestData.hillstrom(spark).cache()
    val m = new PolicyTreeLearner().setFeatureCols(Array("recency", "zip_code", "channel"))
      .setTreatmentCol("segment").setOutcomeCol("spend").setCrossFitFolds(2).setOutcomeMaxDepth(2).setMaxDepth(2).fit(h)
    assert(m.contract.features.map(_.kind) == Seq("numeric", "categorical", "categorical"))
    assert(m.contract.features(1).categories.contains(Seq("Rural", "Surburban", "Urban")))
    assert(m.outputSignature(h) == m.outputSignatureOfScored(m.transformWithSql(h)))
    val again = new PolicyTreeLearner().setFeatureCols(Array("recency", "zip_code", "channel"))
      .setTreatmentCol("segment").setOutcomeCol("spend").setCrossFitFolds(2).setOutcomeMaxDepth(2).setMaxDepth(2).fit(h.repartition(5))
    assert(again.signatures.asScala == m.signatures.asScala)
  }

  test("DoublyRobustScores codes a string feature the same way: its scores are bit-identical under repartition") {
    val d = data.withColumn("arm", when(col("id") % 2 === 0, "t").otherwise("c"))
      .withColumn("y", when(col("region") === "b", 2.0).otherwise(1.0) + (col("id") % 5L) / 10.0)
    val drs = new DoublyRobustScores().setFeatureCols(Array("x", "region")).setTreatmentCol("arm").setOutcomeCol("y")
      .setCrossFitFolds(2).setOutcomeMaxDepth(2).setRowIdCol("id")
    def scores(df: DataFrame) = drs.transform(df).select("id", drs.getRewardsCol).orderBy("id").collect().toSeq
    assert(scores(d) == scores(d.repartition(5)))
  }

  test("DoublyRobustScores takes categoricalCols and categoryOrders like the learner, and reports the same errors") {
    // y depends on k == 3, a category in the middle: one categorical split isolates it, one threshold cannot.
    val d = data.withColumn("k", (col("id") % 5L).cast("int")).withColumn("arm", when(col("id") % 2 === 0, "t").otherwise("c"))
      .withColumn("y", when(col("k") === 3, 2.0).otherwise(1.0) + (col("id") % 7L) / 10.0)
    val drs = new DoublyRobustScores().setFeatureCols(Array("x", "k")).setTreatmentCol("arm").setOutcomeCol("y")
      .setCrossFitFolds(2).setOutcomeMaxDepth(1).setRowIdCol("id")
    def scores(s: DoublyRobustScores, df: DataFrame) = s.transform(df).select("id", s.getRewardsCol).orderBy("id").collect().toSeq
    val numeric = scores(drs, d)
    val categorical = scores(drs.copy(ParamMap.empty).setCategoricalCols(Array("k")), d)
    assert(categorical != numeric, "categoricalCols must reach the outcome trees")
    assert(categorical == scores(drs.copy(ParamMap.empty).setCategoricalCols(Array("k")), d.repartition(4)))
    // Residuals: isolating k == 3 explains y's step, so the scores of each arm's own rows sit closer to y.
    def sse(rows: Seq[org.apache.spark.sql.Row]) = rows.map { r =>
      val id = r.getLong(0); val arm = if (id % 2 == 0) 1 else 0
      val y = (if (id % 5 == 3) 2.0 else 1.0) + (id % 7) / 10.0
      val g = r.getSeq[Double](1)(arm)
      (g - y) * (g - y)
    }.sum
    assert(sse(categorical) < sse(numeric))
    val e1 = intercept[IllegalArgumentException](drs.copy(ParamMap.empty).setCategoricalCols(Array("g0")).transform(d))
    assert(e1.getMessage.contains("categoricalCols names column 'g0', which is not in featureCols"), e1.getMessage)
    val e2 = intercept[IllegalArgumentException](drs.copy(ParamMap.empty).setFeatureCols(Array("x", "region"))
      .setCategoryOrders(Map("region" -> Array("a", "b", "c"))).transform(d))
    assert(e2.getMessage.contains("categorical column 'region' has value 'd', which is not in its categoryOrders"), e2.getMessage)
  }

  test("errors name the column: categoricalCols outside featureCols or missing, too many categories, labels outside categoryOrders") {
    val e1 = intercept[IllegalArgumentException](learner.setCategoricalCols(Array("nope")).fit(data))
    assert(e1.getMessage.contains("categoricalCols: column 'nope' does not exist"), e1.getMessage)
    val e2 = intercept[IllegalArgumentException](learner.setCategoricalCols(Array("g0")).fit(data))
    assert(e2.getMessage.contains("categoricalCols names column 'g0', which is not in featureCols"), e2.getMessage)
    val wide = spark.range(65535).select(col("id").cast("string").as("code"), lit(1.0).as("g0"), lit(0.0).as("g1"))
    val e3 = intercept[IllegalArgumentException](learner.setFeatureCols(Array("code")).fit(wide))
    assert(e3.getMessage.contains("categorical column 'code' has more than 65534 categories"), e3.getMessage)
    val e4 = intercept[IllegalArgumentException](learner.setCategoryOrders(Map("region" -> Array("a", "b", "c"))).fit(data))
    assert(e4.getMessage.contains("categorical column 'region' has value 'd', which is not in its categoryOrders"), e4.getMessage)
  }
}

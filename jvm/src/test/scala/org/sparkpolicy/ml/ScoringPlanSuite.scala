package org.sparkpolicy.ml

import org.apache.spark.sql.DataFrame
import org.apache.spark.sql.functions._
import org.scalatest.funsuite.AnyFunSuite
import org.sparkpolicy.SparkTestSession
import org.apache.spark.sql.catalyst.plans.logical.Filter
import org.sparkpolicy.SparkPolicyExtensions
import org.sparkpolicy.synthetic.PlantedPolicyData
import org.sparkpolicy.ml.model.PolicyOutputColumns
import org.sparkpolicy.score.{PolicyScoring, PolicyScoringExec, ScoringPlan}

/** A scored frame is a query plan like any other: it composes with selects, filters, joins and caching. */
class ScoringPlanSuite extends AnyFunSuite with SparkTestSession {
  private val features = PlantedPolicyData.featureNames(6)
  private lazy val data = PlantedPolicyData.generate(spark, 20000, 6, 4).select((Seq("id") ++ features ++ Seq("g0", "g1", "g2")).map(col): _*)
  private lazy val model = new PolicyTreeLearner().setFeatureCols(features).setRewardCols(Array("g0", "g1", "g2")).setMaxDepth(2).fit(data)

  /** id → the four outputs, from the SQL backend (no native code, no plan node). */
  private lazy val expected: Map[Long, Seq[Any]] = outputs(model.transformWithSql(data))

  private def outputs(df: DataFrame): Map[Long, Seq[Any]] =
    df.select("id", PolicyOutputColumns.All: _*).collect().map(r => r.getLong(0) -> r.toSeq.tail).toMap

  test("the scorer reads only the features the tree splits on") {
    val node = model.transform(data).queryExecution.optimizedPlan.collectFirst { case p: PolicyScoring => p }.get
    val splitOn = model.nodeTable.nodes.filterNot(_.isLeaf).map(n => features(n.feature)).distinct.sorted
    assert(node.features.map(_.name).sorted == splitOn && splitOn.length < features.length, model.toDebugString)
    // A column the tree never reads may hold anything of its type, nulls included.
    val noisy = data.withColumn("x5", when(col("id") % 2 === 0, lit(null)).otherwise(lit(Double.NaN)))
    assume(!splitOn.contains("x5"))
    assert(outputs(model.transform(noisy)) == expected)
  }

  test("a lone-leaf tree reads no feature at all, on the columnar and the row path") {
    val constant = data.withColumn("g0", lit(5.0))
    val leaf = new PolicyTreeLearner().setFeatureCols(features).setRewardCols(Array("g0", "g1", "g2")).setMaxDepth(2).fit(constant)
    assert(leaf.numNodes == 1, leaf.toDebugString)
    val dir = java.nio.file.Files.createTempDirectory("sparkpolicy-leaf").resolve("data").toString
    data.write.parquet(dir)
    Seq(data, spark.read.parquet(dir)).foreach { input =>
      val scored = leaf.transform(input)
      val node = scored.queryExecution.executedPlan.collectFirst { case s: PolicyScoringExec => s }.get
      assert(node.features.isEmpty)
      assert(outputs(scored) == outputs(leaf.transformWithSql(input)))
      assert(scored.where(col(PolicyOutputColumns.ActionIndex) =!= 0 || col(PolicyOutputColumns.Leaf) =!= 1).count() == 0)
    }
  }

  test("selects, filters and column pruning above the scoring node give the SQL backend's rows") {
    val scored = model.transform(data)
    assert(outputs(scored) == expected)
    val picked = scored.where(col(PolicyOutputColumns.ActionIndex) === 1).select("id", PolicyOutputColumns.Leaf)
    assert(picked.collect().map(r => r.getLong(0) -> r.getInt(1)).toMap ==
      expected.collect { case (id, Seq(_, 1, _, leaf)) => id -> leaf.asInstanceOf[Int] })
    assert(scored.select("id").count() == 20000)
  }

  test("filters on input columns go below the scoring node and into the Parquet scan; the rest stay above") {
    val dir = java.nio.file.Files.createTempDirectory("sparkpolicy-filter").resolve("data").toString
    data.write.parquet(dir)
    val parquet = spark.read.parquet(dir)
    val filtered = model.transform(parquet).where(col("x3") > 0.5 && col(PolicyOutputColumns.Leaf) =!= 4)
    val node = filtered.queryExecution.optimizedPlan.collectFirst { case p: PolicyScoring => p }.get
    assert(node.child.collectFirst { case f: Filter => f.condition.references.map(_.name).toSet }.contains(Set("x3")), filtered.queryExecution.optimizedPlan)
    val above = filtered.queryExecution.optimizedPlan.collectFirst { case f: Filter if f.child.isInstanceOf[PolicyScoring] => f }
    assert(above.exists(_.condition.references.map(_.name).toSet == Set(PolicyOutputColumns.Leaf)))
    assert(filtered.queryExecution.executedPlan.toString.contains("PushedFilters: [IsNotNull(x3), GreaterThan(x3,0.5)]"))
    val reference = model.transformWithSql(parquet).where(col("x3") > 0.5 && col(PolicyOutputColumns.Leaf) =!= 4)
    assert(outputs(filtered) == outputs(reference) && outputs(reference).nonEmpty)
  }

  test("a session built with SparkPolicyExtensions plans a scored frame it did not create") {
    // A global temporary view is shared by the sessions of one SharedState; the reading session never ran transform.
    val writer = org.apache.spark.sql.classic.SparkSession.builder().withExtensions(new SparkPolicyExtensions).create()
    val view = "sparkpolicy_scored"
    model.transform(PlantedPolicyData.generate(writer, 20000, 6, 4)).createOrReplaceGlobalTempView(view)
    try {
      val reader = writer.newSession()
      assert(!ScoringPlan.registered(reader))
      val read = reader.table(s"global_temp.$view")
      assert(outputs(read) == expected)
      val filtered = read.where(col("x3") > 0.5).queryExecution.optimizedPlan
      // Injected with the operator rules, so Spark pushes the filter on down through the projections below.
      assert(filtered.isInstanceOf[PolicyScoring] && filtered.exists(_.isInstanceOf[Filter]), filtered)
    } finally writer.catalog.dropGlobalTempView(view)
  }

  test("without SparkPolicyExtensions, such a session fails naming the scoring node (docs/failure-catalog.md)") {
    val writer = org.apache.spark.sql.classic.SparkSession.builder().create()
    val view = "sparkpolicy_scored_plain"
    model.transform(PlantedPolicyData.generate(writer, 100, 6, 1)).createOrReplaceGlobalTempView(view)
    try {
      val e = intercept[org.apache.spark.SparkException](writer.newSession().table(s"global_temp.$view").collect())
      // Spark reports it as an internal planning error; the cause names the node.
      val causes = Iterator.iterate[Throwable](e)(_.getCause).takeWhile(_ != null).map(_.getMessage).toList
      assert(causes.exists(m => m != null && m.contains("No plan for PolicyScoring")), causes)
    } finally writer.catalog.dropGlobalTempView(view)
  }

  test("a self-join of a scored frame resolves both sides' outputs") {
    val scored = model.transform(data)
    val other = scored.select(col("id"), col(PolicyOutputColumns.Leaf).as("other_leaf"))
    val joined = scored.join(other, "id")
    assert(joined.where(col(PolicyOutputColumns.Leaf) =!= col("other_leaf")).count() == 0 && joined.count() == 20000)
    val both = scored.as("l").join(scored.as("r"), col("l.id") === col("r.id") + 1)
    assert(both.where(col(s"l.${PolicyOutputColumns.Leaf}") === col(s"r.${PolicyOutputColumns.Leaf}")).count() > 0)
  }

  test("a cached scored frame keeps its rows; the plan shows the node, which counts its rows") {
    val scored = model.transform(data).cache()
    try {
      assert(outputs(scored) == expected)
      assert(outputs(scored) == expected)
      assert(scored.queryExecution.executedPlan.toString.contains("InMemoryTableScan"))
      val exec = model.transform(data.where(col("id") >= 0))
      assert(exec.collect().length == 20000)
      val node = exec.queryExecution.executedPlan.collectFirst { case s: PolicyScoringExec => s }.get
      assert(node.metrics("numOutputRows").value == 20000)
      assert(exec.queryExecution.explainString(org.apache.spark.sql.execution.SimpleMode).contains(s"PolicyScoring"))
    } finally scored.unpersist()
  }
}

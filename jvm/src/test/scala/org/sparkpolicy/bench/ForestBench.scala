package org.sparkpolicy.bench

import java.nio.file.{Files, Path}

import org.apache.spark.sql.{DataFrame, Encoders, Row, SparkSession}
import org.apache.spark.sql.functions._
import org.apache.spark.sql.types.{ArrayType, DoubleType, IntegerType, StructField}
import org.sparkpolicy.bench.BenchSupport._
import org.sparkpolicy.examples.LocalRun
import org.sparkpolicy.ml.{PolicyForestLearner, PolicyForestModel, PolicyTreeLearner}
import org.sparkpolicy.ml.model.{ForestVote, NodeTable, PolicyOutputColumns}
import org.sparkpolicy.synthetic.PlantedPolicyData

/**
 * The reference paper's forest workload (GitHub issue #13): a 50-tree, depth-7 forest over 4 arms scoring a
 * Parquet file (10M rows in full), against Spark's read floor (a `noop` write of the features), the toolkit's
 * depth-3 tree, and the same forest walked in the JVM by a `mapPartitions` (each tree's `NodeTable.leafOf`
 * and `ForestVote`, as a hand-written Spark scorer would) and the SQL backend (`transformWithSql`). Also the forest's fit time, all trees grown
 * together, on a sample. Cases run round-robin; medians of `reps` after one warm-up each.
 * `make bench-forest` → benches/results/forest.json (forest-quick.json for other sizes).
 */
object ForestBench {
  private val Rewards = Seq("r0", "r1", "r2", "r3")

  def main(args: Array[String]): Unit = {
    val opts = LocalRun.options(args)
    val rows = opts.getOrElse("rows", "10000000").toLong
    val fitRows = opts.getOrElse("fit-rows", "200000").toLong
    val trees = opts.getOrElse("trees", "50").toInt
    val depth = opts.getOrElse("depth", "7").toInt
    val reps = opts.getOrElse("reps", "3").toInt
    val partitions = opts.getOrElse("partitions", "16").toInt
    // The paper's shape: 16 features (runs before 2026-12-03 used 10).
    val Features = opts.getOrElse("features", "16").toInt
    // The SQL backend interprets a half-million-character expression at ~18K rows/s: it is checked and timed on its
    // own smaller file, next to the native forest on the same file.
    val sqlRows = opts.getOrElse("sql-rows", "1000000").toLong
    // A comma-separated subset of the case names (e.g. "a_floor_noop,c_native_forest", for profiling) skips the
    // agreement checks too.
    val only = opts.get("cases").map(_.split(',').map(_.trim).toSet)
    val full = rows == 10000000L && trees == 50 && depth == 7 && reps >= 3 && Features == 16 && only.isEmpty
    val out = Path.of(opts.getOrElse("out", "benches/results")).resolve(if (full) "forest.json" else "forest-quick.json")
    val spark = LocalRun.session("local[2]", "sparkpolicy-forest-bench")
      .config("spark.sql.shuffle.partitions", "4").config("spark.sql.files.maxPartitionBytes", "64m").getOrCreate()
    spark.sparkContext.setLogLevel("WARN")
    val tmp = Files.createTempDirectory("sparkpolicy-forest-bench")
    try {
      val loadBefore = loadAverage
      val featureCols = PlantedPolicyData.featureNames(Features).toSeq
      val dir = tmp.resolve("data").toString
      val written = time(PlantedPolicyData.generate(spark, rows, Features, partitions)
        // Four arms whose means differ little next to their noise (a fifth of the planted effects, and a fourth arm
        // paying where x3 is high), so the best arm changes often and the trees grow to full depth, as the paper's.
        .select(featureCols.map(col) ++ (0 until 3).map(a => (col(s"g$a") - col(s"mu$a") * 0.8).as(s"r$a")) :+
          (when(col("x3") > 0.7, 0.3).otherwise(-0.1) + col("g0") - col("mu0")).as("r3"): _*)
        .write.parquet(dir))
      println(f"== forest scoring: $rows rows × $Features features, Parquet written in $written%.1f s")
      val data = spark.read.parquet(dir)
      val features = data.select(featureCols.map(col): _*)
      // A hash of each row's features, not `sample`: Spark's sample depends on which file lands in which partition,
      // and the listing order changes between runs, so runs before 2026-12-03 fitted forests of 3,900–5,400 nodes.
      val sample = data.where(pmod(xxhash64(featureCols.map(col): _*), lit(1000000L)) < lit(math.min(1.0, fitRows.toDouble / rows) * 1e6)).cache()
      val sampleRows = sample.count()

      var forest: PolicyForestModel = null
      val forestFit = time {
        forest = new PolicyForestLearner().setFeatureCols(featureCols.toArray).setRewardCols(Rewards.toArray)
          .setNumTrees(trees).setMaxDepth(depth).setMinNodeSize(5).fit(sample)
      }
      val nodes = forest.nodeTables.map(_.nodes.size).sum
      val deepest = forest.nodeTables.map(t => Integer.numberOfTrailingZeros(Integer.highestOneBit(t.nodes.map(_.id).max))).max
      println(f"  fitted $trees trees (depth ≤ $deepest, $nodes nodes) on $sampleRows rows in $forestFit%.1f s")
      val tree = new PolicyTreeLearner().setFeatureCols(featureCols.toArray).setRewardCols(Rewards.toArray).setMaxDepth(3).fit(sample)

      val sqlDir = tmp.resolve("sql").toString
      PlantedPolicyData.generate(spark, sqlRows, Features, 4).select(featureCols.map(col): _*).write.parquet(sqlDir)
      val sqlFeatures = spark.read.parquet(sqlDir)
      if (only.isEmpty) {
        // Untimed: the native forest and the JVM walk agree on every row's action and scores; the SQL backend on its file's.
        val differ = jvmForest(forest, forest.transform(features), Features)
          .where(col(PolicyOutputColumns.Scores) =!= col("jvm_scores") || col(PolicyOutputColumns.ActionIndex) =!= col("jvm_action")).count()
        require(differ == 0, s"native and JVM forest scores differ on $differ rows")
        println("  native forest and JVM walk agree on every row")
        val sqlDiffer = forest.transform(sqlFeatures).withColumn("sql", expr(forest.toSqlExpression))
          .where(col(PolicyOutputColumns.Scores) =!= col("sql.policy_scores")).count()
        require(sqlDiffer == 0, s"native and SQL forest scores differ on $sqlDiffer rows")
        println(s"  native forest and SQL expression (${forest.toSqlExpression.length} characters) agree on all $sqlRows rows of its file")
      }

      val allCases: Seq[(String, () => Unit)] = Seq(
        "a_floor_noop" -> (() => noop(features)),
        "b_native_tree_depth3" -> (() => noop(tree.transform(features))),
        "c_native_forest" -> (() => noop(forest.transform(features))),
        // The same without policy_leaves (50 ints a row): Spark's generated code then never reads that column.
        "c_native_forest_no_leaves" -> (() => noop(forest.transform(features).drop(PolicyOutputColumns.Leaves))),
        "d_jvm_forest_mapPartitions" -> (() => noop(jvmForest(forest, features, Features))))
      val sqlCases: Seq[(String, () => Unit)] = Seq(
        "e_native_forest_sql_file" -> (() => noop(forest.transform(sqlFeatures))),
        "e_sql_forest_sql_file" -> (() => noop(forest.transformWithSql(sqlFeatures))))
      val keep = (c: (String, () => Unit)) => only.forall(_.contains(c._1))
      val cases = allCases.filter(keep)
      val sqlTimings = measureRoundRobin(sqlCases.filter(keep), 1).toMap
      val timings = measureRoundRobin(cases, reps).toMap
      val floor = timings.get("a_floor_noop").map(_.median).getOrElse(Double.NaN)
      cases.map(_._1).foreach { c =>
        val t = timings(c)
        println(f"  $c%-28s ${t.median}%8.2f s  ${rows / t.median / 1e6}%6.2f M rows/s  ${t.median / floor}%5.2f× floor  [${t.min}%.2f–${t.max}%.2f]")
      }
      writeJson(out, results(spark)(
        "benchmark" -> "forest scoring vs Spark's floor, a tree and a JVM forest walk (jvm/src/test/scala/org/sparkpolicy/bench/ForestBench.scala)",
        "load_average_before" -> loadBefore,
        "load_average_after" -> loadAverage,
        "rows" -> rows, "features" -> Features, "arms" -> Rewards.size, "trees" -> trees, "max_depth" -> depth,
        "forest_nodes" -> nodes, "forest_depth" -> deepest, "fit_rows" -> sampleRows, "fit_seconds" -> forestFit,
        "repetitions" -> reps,
        "statistic" -> "median of the timed repetitions, after one warm-up run per case",
        "cases" -> obj(cases.map(_._1).map { c =>
          val t = timings(c)
          c -> obj("median_seconds" -> t.median, "rows_per_sec" -> rows / t.median, "seconds" -> t.seconds, "time_vs_floor" -> t.median / floor)
        }: _*),
        "sql_rows" -> sqlRows,
        "sql_cases" -> obj(sqlTimings.toSeq.sortBy(_._1).map { case (c, t) =>
          c -> obj("seconds" -> t.median, "rows_per_sec" -> sqlRows / t.median)
        }: _*),
        "ratios" -> obj(Seq(
          "native_forest_time_vs_floor" -> ratio(timings, "c_native_forest", "a_floor_noop"),
          "native_forest_no_leaves_time_vs_floor" -> ratio(timings, "c_native_forest_no_leaves", "a_floor_noop"),
          "native_forest_time_vs_tree_depth3" -> ratio(timings, "c_native_forest", "b_native_tree_depth3"),
          "jvm_forest_time_vs_native_forest" -> ratio(timings, "d_jvm_forest_mapPartitions", "c_native_forest"),
          "sql_forest_time_vs_native_forest" -> ratio(sqlTimings, "e_sql_forest_sql_file", "e_native_forest_sql_file"))
          .collect { case (k, Some(v)) => k -> v }: _*)))
      println(s"wrote $out")
    } finally {
      spark.stop()
      deleteRecursively(tmp)
    }
  }

  private def ratio(t: Map[String, Timing], a: String, b: String): Option[Double] =
    for (x <- t.get(a); y <- t.get(b)) yield x.median / y.median

  private def noop(df: DataFrame): Unit = df.write.format("noop").mode("overwrite").save()

  /** The forest walked row by row in the JVM over the first `n` columns (the features): `df` plus `jvm_action` and `jvm_scores`. */
  private def jvmForest(forest: PolicyForestModel, features: DataFrame, n: Int): DataFrame = {
    val trees: IndexedSeq[NodeTable] = forest.nodeTables.toIndexedSeq
    val schema = features.schema.add(StructField("jvm_action", IntegerType)).add(StructField("jvm_scores", ArrayType(DoubleType, false)))
    val bc = features.sparkSession.sparkContext.broadcast(trees)
    features.mapPartitions { rows =>
      val ts = bc.value
      val x = new Array[Double](n)
      rows.map { r =>
        var f = 0
        while (f < n) { x(f) = if (r.isNullAt(f)) Double.NaN else r.getDouble(f); f += 1 }
        val scores = ForestVote.scores(ts, t => ts(t).leafOf(x(_)))
        Row.fromSeq(r.toSeq ++ Seq(ForestVote.action(scores), scores.toSeq))
      }
    }(Encoders.row(schema))
  }
}

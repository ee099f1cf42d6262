package org.sparkpolicy.bench

import java.nio.file.{Files, Path}

import org.apache.spark.sql.{DataFrame, Encoders, Row, SparkSession}
import org.apache.spark.sql.functions.{col, expr}
import org.sparkpolicy.bench.BenchSupport._
import org.sparkpolicy.examples.LocalRun
import org.sparkpolicy.synthetic.PlantedPolicyData
import org.sparkpolicy.bridge.FixedPoint
import org.sparkpolicy.ml.{PolicyTreeLearner, PolicyTreeModel}
import org.sparkpolicy.ml.model.PolicyOutputColumns
import org.sparkpolicy.train.{AipwSettings, BinnedBlocks, Boundaries, InputSpec, TrainingData}

/**
 * `make bench`, Spark part: scoring throughput against Spark's own floor, and fit time.
 *
 * On one Parquet copy of PlantedPolicyData (N rows, 10 double features) it times, each written to
 * Spark's `noop` sink: (a) the 10 feature columns alone (the floor), (b) the same through an
 * identity `mapPartitions` over Rows (the cost of leaving generated code), (c) the native
 * `PolicyTreeModel.transform` of a depth-3 and a depth-8 tree, (d) the same trees as a generated
 * SQL CASE WHEN. Then fit time of a depth-4 tree on 1M rows × 10 and × 100 features.
 * Every case is warmed up once and then timed `reps` times; figures are medians.
 *
 * Flags: --rows N (2000000), --fit-rows N (1000000), --reps R (3), --partitions P (16),
 * --skip-fit true, --skip-scoring true, --out DIR (benches/results), --name NAME (results file
 * DIR/NAME.json; default "spark" for a full run with default sizes, else "spark-quick").
 */
object SparkBench {
  private val Features = 10
  /**
   * Reward columns of every fitted model: r_a = g_a + 3·x_{3+a}, from PlantedPolicyData's given
   * rewards g0..g2. The planted policy has depth 2, so on g0..g2 alone the learner stops at depth 2
   * (no deeper split changes an arm); the smooth term makes deeper splits keep paying, so the trees
   * really reach the requested depths 3, 4 and 8.
   */
  private val Rewards = Seq("r0", "r1", "r2")

  private def rewardColumns = Rewards.indices.map(a => (col(s"g$a") + col(s"x${3 + a}") * 3.0).as(Rewards(a)))

  /** Rows of the sample the two scoring models are fitted on. */
  private val ModelSampleRows = 200000L

  def main(args: Array[String]): Unit = {
    val opts = LocalRun.options(args)
    val rows = opts.getOrElse("rows", "2000000").toLong
    val fitRows = opts.getOrElse("fit-rows", "1000000").toLong
    val reps = opts.getOrElse("reps", "5").toInt
    val partitions = opts.getOrElse("partitions", "16").toInt
    val skipFit = opts.get("skip-fit").contains("true")
    val skipScoring = opts.get("skip-scoring").contains("true")
    // Only a full-size, complete run may replace the published benches/results/spark.json.
    val full = rows == 2000000L && fitRows == 1000000L && reps >= 3 && !skipFit && !skipScoring
    val name = opts.getOrElse("name", if (full) "spark" else "spark-quick")
    val out = Path.of(opts.getOrElse("out", "benches/results")).resolve(s"$name.json")
    require(reps >= 1, "--reps must be at least 1")

    val spark = LocalRun.session("local[2]", "sparkpolicy-bench")
      .config("spark.sql.shuffle.partitions", "4")
      // One read task per written file (each ~13 MB at N = 2M), so the 2 cores get even work.
      .config("spark.sql.files.maxPartitionBytes", "16m")
      .getOrCreate()
    spark.sparkContext.setLogLevel("WARN")
    val tmp = Files.createTempDirectory("sparkpolicy-bench")
    try {
      val loadBefore = loadAverage
      val scoring = if (skipScoring) null else scoringBench(spark, tmp, rows, reps, partitions)
      val fits = if (skipFit) Seq.empty else
        fitBench(spark, tmp, fitRows, 10, reps, partitions, Seq(Map.empty, NoConstraintPropagation)) ++
          fitBench(spark, tmp, fitRows, 100, reps, partitions, Seq(NoConstraintPropagation))
      val result = results(spark)(
        "benchmark" -> "Spark scoring vs. Spark's floor, and fit time (jvm/src/test/scala/org/sparkpolicy/bench/SparkBench.scala)",
        "load_average_before" -> loadBefore,
        "load_average_after" -> loadAverage,
        "repetitions" -> reps,
        "statistic" -> "median of the timed repetitions, after one warm-up run per case",
        "scoring" -> scoring,
        "fit" -> fits)
      writeJson(out, result)
      println(s"wrote $out")
    } finally {
      spark.stop()
      deleteRecursively(tmp)
    }
  }

  private def noop(df: DataFrame): Unit = df.write.format("noop").mode("overwrite").save()

  private def scoringBench(spark: SparkSession, tmp: Path, rows: Long, reps: Int, partitions: Int): java.util.Map[String, Any] = {
    val featureCols = PlantedPolicyData.featureNames(Features).toSeq
    val dir = tmp.resolve("scoring").toString
    println(s"== scoring: $rows rows × $Features features, Parquet in $dir")
    val written = time {
      PlantedPolicyData.generate(spark, rows, Features, partitions)
        .select(featureCols.map(col) ++ rewardColumns: _*)
        .write.parquet(dir)
    }
    println(f"  generated and wrote the data in $written%.1f s")
    val data = spark.read.parquet(dir)
    val features = data.select(featureCols.map(col): _*)

    // The two scored models, fitted on a sample of the same data with the rewards r0..r2.
    val sample = data.sample(withReplacement = false, math.min(1.0, ModelSampleRows.toDouble / rows), 11L)
    def fit(depth: Int): PolicyTreeModel = {
      var m: PolicyTreeModel = null
      val s = time {
        m = new PolicyTreeLearner().setFeatureCols(featureCols.toArray).setRewardCols(Rewards.toArray).setMaxDepth(depth).fit(sample)
      }
      println(f"  fitted $m on a ~$ModelSampleRows-row sample in $s%.1f s")
      if (m.depth != depth) println(s"  WARNING: asked for depth $depth but the tree stopped at depth ${m.depth}")
      m
    }
    val model3 = fit(3)
    val model8 = fit(8)
    val sql3 = caseWhenSql(model3.nodeTable, featureCols)
    val sql8 = caseWhenSql(model8.nodeTable, featureCols)
    println(s"  depth-3 tree as SQL: $sql3")

    // Untimed check that (c) and (d) compute the same thing, so their ratio compares like with like.
    Seq((model3, sql3), (model8, sql8)).foreach { case (m, sql) =>
      val differ = m.transform(features).where(col(PolicyOutputColumns.ActionIndex) =!= expr(sql)).count()
      if (differ != 0) throw new IllegalStateException(s"the CASE WHEN of the depth-${m.depth} tree disagrees with transform on $differ rows")
    }
    println("  CASE WHEN and native transform agree on every row (depth 3 and depth 8)")

    val schema = features.schema
    val cases: Seq[(String, () => Unit)] = Seq(
      "a_floor_noop" -> (() => noop(features)),
      "b_mapPartitions_identity" -> (() => noop(features.mapPartitions((it: Iterator[Row]) => it)(Encoders.row(schema)))),
      "c_native_transform_depth3" -> (() => noop(model3.transform(features))),
      "c_native_transform_depth8" -> (() => noop(model8.transform(features))),
      "d_sql_case_when_depth3" -> (() => noop(features.withColumn("action_index", expr(sql3)))),
      "d_sql_case_when_depth8" -> (() => noop(features.withColumn("action_index", expr(sql8)))))
    val timings = measureRoundRobin(cases, reps).toMap
    val floor = timings("a_floor_noop").median
    val results = obj(cases.map(_._1).map { c =>
      val t = timings(c)
      c -> obj(
        "median_seconds" -> t.median,
        "rows_per_sec" -> rows / t.median,
        "seconds" -> t.seconds,
        "time_vs_floor" -> t.median / floor)
    }: _*)
    val native3 = timings("c_native_transform_depth3").median
    val native8 = timings("c_native_transform_depth8").median
    val ratios = obj(
      "native_depth3_time_vs_floor" -> native3 / floor,
      "native_depth3_target_time_vs_floor" -> 1.5,
      "native_depth3_meets_target" -> (native3 / floor <= 1.5),
      "native_depth3_time_vs_sql_case_when" -> native3 / timings("d_sql_case_when_depth3").median,
      "native_depth8_time_vs_sql_case_when" -> native8 / timings("d_sql_case_when_depth8").median,
      "mapPartitions_identity_time_vs_floor" -> timings("b_mapPartitions_identity").median / floor)
    printTable(rows, cases.map(_._1), timings, floor)
    obj(
      "rows" -> rows,
      "features" -> Features,
      "input_partitions" -> features.rdd.getNumPartitions,
      "parquet_bytes" -> sizeOnDisk(Path.of(dir)),
      "models" -> Seq(model3, model8).map(m => obj("depth" -> m.depth, "nodes" -> m.numNodes)),
      "sql_case_when_depth3" -> sql3,
      "cases" -> results,
      "ratios" -> ratios)
  }

  private def printTable(rows: Long, order: Seq[String], timings: Map[String, Timing], floor: Double): Unit = {
    println(f"  ${"case"}%-28s ${"median s"}%9s ${"rows/s"}%12s ${"× floor"}%8s")
    order.foreach { c =>
      val m = timings(c).median
      println(f"  $c%-28s $m%9.2f ${rows / m}%12.0f ${m / floor}%8.2f")
    }
  }

  /**
   * Works around a product problem so the fit figures can be taken at all: Boundaries.compute's
   * sampling filter hashes every column under a projection that renames each one, and Catalyst's
   * constraint propagation then grows exponentially with the number of features (planning takes
   * ~32 s at F = 16, ~92 s at F = 18, and exhausts a 4 GiB driver heap at F = 100).
   * See docs/benchmarks.md. F = 10 is timed both with and without it.
   */
  private val NoConstraintPropagation = Map("spark.sql.constraintPropagation.enabled" -> "false")

  /** Fit time of a depth-4 tree on `rows` × `nFeatures`, once per Spark SQL conf variant, on one Parquet copy. */
  private def fitBench(spark: SparkSession, tmp: Path, rows: Long, nFeatures: Int, reps: Int, partitions: Int,
      variants: Seq[Map[String, String]]): Seq[java.util.Map[String, Any]] = {
    val featureCols = PlantedPolicyData.featureNames(nFeatures)
    val dir = tmp.resolve(s"fit-f$nFeatures")
    println(s"== fit: depth 4, $rows rows × $nFeatures features, Parquet in $dir")
    val written = time {
      PlantedPolicyData.generate(spark, rows, nFeatures, partitions)
        .select(featureCols.toSeq.map(col) ++ rewardColumns: _*)
        .write.parquet(dir.toString)
    }
    println(f"  generated and wrote the data in $written%.1f s")
    val data = spark.read.parquet(dir.toString)
    val learner = new PolicyTreeLearner().setFeatureCols(featureCols).setRewardCols(Rewards.toArray).setMaxDepth(4)
    val results = variants.map { conf =>
      conf.foreach { case (k, v) => spark.conf.set(k, v) }
      try {
        val label = s"fit_depth4_f$nFeatures" + (if (conf.isEmpty) "" else "_no_constraint_propagation")
        var model: PolicyTreeModel = null
        val timing = measureRoundRobin(Seq(label -> (() => model = learner.fit(data))), reps).head._2
        println(f"  median $label ${timing.median}%.2f s ($model)")
        val phases = fitPhases(learner, data, model)
        obj(
          "case" -> label,
          "rows" -> rows,
          "features" -> nFeatures,
          "max_depth" -> 4,
          "spark_conf_overrides" -> obj(conf.toSeq: _*),
          "median_seconds" -> timing.median,
          "rows_per_sec" -> rows / timing.median,
          "seconds" -> timing.seconds,
          "model_depth" -> model.depth,
          "model_nodes" -> model.numNodes,
          "last_fit_levels" -> model.trainingSummary.levels.map(l =>
            obj("depth" -> l.depth, "frontier_nodes" -> l.frontierNodes, "feature_blocks" -> l.featureBlocks, "millis" -> l.millis)),
          "phase_seconds_one_extra_run" -> phases)
      } finally conf.keys.foreach(spark.conf.unset)
    }
    deleteRecursively(dir)
    results
  }

  /**
   * Diagnostic, not a figure: where a fit's time goes, from one extra run of the fit's steps in
   * TreeTrainer's order (validation pass, boundaries, binning into cached blocks), plus the level
   * searches as recorded by the last timed fit.
   */
  private def fitPhases(learner: PolicyTreeLearner, data: DataFrame, model: PolicyTreeModel): java.util.Map[String, Any] = {
    val spec = InputSpec(learner.getFeatureCols, None, Some(learner.getRewardCols), None, None, None, None, None, "error",
      AipwSettings.defaults(256, 1))
    var td: TrainingData = null
    var edges: Array[Array[Double]] = null
    val prepare = time { td = TrainingData.prepare(data, spec) }
    val boundaries = time { edges = Boundaries.compute(td, learner.getMaxBins, learner.getBoundarySampleSize) }
    val shift = FixedPoint.rewardShift(td.nRows, td.maxAbsReward)
    val blocks = BinnedBlocks.build(td, edges, shift)
    val binning = time(blocks.count())
    blocks.unpersist(blocking = true)
    val levels = model.trainingSummary.levels.map(_.millis).sum / 1e3
    println(f"  phases: validate $prepare%.2f s, boundaries $boundaries%.2f s, binning $binning%.2f s, level searches $levels%.2f s")
    obj("validate_and_aggregate" -> prepare, "boundaries" -> boundaries, "binning_into_blocks" -> binning, "level_searches" -> levels)
  }
}

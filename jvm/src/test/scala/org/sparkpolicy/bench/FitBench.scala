package org.sparkpolicy.bench

import java.nio.file.{Files, Path}

import scala.jdk.CollectionConverters._

import org.apache.spark.ml.{Pipeline, PipelineModel}
import org.apache.spark.ml.feature.VectorAssembler
import org.apache.spark.ml.param.Param
import org.apache.spark.ml.regression.{DecisionTreeRegressionModel, DecisionTreeRegressor}
import org.apache.spark.ml.tree.InternalNode
import org.apache.spark.sql.{DataFrame, SparkSession}
import org.sparkpolicy.bench.BenchSupport._
import org.sparkpolicy.examples.LocalRun
import org.sparkpolicy.ml.{PolicyTreeLearner, PolicyTreeModel}

/**
 * `make bench-fit` (not part of `make test`): GitHub issue #12's fit-speed benchmark, the toolkit's
 * `PolicyTreeLearner` against Spark MLlib's `DecisionTreeRegressor`, on the same Parquet file read back in
 * one Spark session (local[2], 127.0.0.1, UI off). All fits are depth `--max-depth` (4) with `--max-bins` (64).
 *
 * Scenarios (`--scenarios mllib,aipw,big,wide`, all by default):
 *  - `mllib`: for each F in `--features` (10,50,200) at `--rows` (1M) × 3 arms of given rewards g0..g2, three
 *    cases timed round-robin (BenchSupport.measureRoundRobin: one warm-up each, then `--reps` rounds):
 *    `toolkit_exact` (defaults: exact thresholds), `toolkit_binned` (thresholdSearch "binned": only the 64 quantile
 *    boundaries, the like-for-like comparison with MLlib's 64 bins) and `mllib` (a `Pipeline` of
 *    `VectorAssembler(x0..)` and `DecisionTreeRegressor(labelCol = g1)`, fitted as a user would); the ratio
 *    MLlib median / toolkit median per toolkit case, against the issue's target (≥ 5×, stretch 10×).
 *  - `aipw`: `--aipw-rows` (= --rows) × `--aipw-features` (50): a toolkit AIPW fit (outcome y, treatment w,
 *    `--aipw-folds` (5) cross-fitting folds, everything else default) against the same MLlib pipeline on y.
 *  - `big`: `--big-rows` (10M) × `--big-features` (100) × 3 arms, toolkit defaults, one timed run (no warm-up: the
 *    figure is the wall time of one fit in a session that has run the scenarios before it, if any).
 *  - `wide`: `--wide-rows` (50,000) × `--wide-features` (10,000), toolkit defaults, one timed run (no warm-up).
 *
 * Per case and fit: wall seconds; for toolkit fits `trainingSummary.phaseMillis` (validate, boundaries, aipw,
 * binning, levels, signatures) and the per-level stats (`trainingSummary.levels`); the input passes, two ways:
 * `parquet_scans` (rows the Parquet scans output during the fit ÷ N: how often the file itself was read, counted from
 * the "number of output rows" metric of every `FileSourceScanExec` Spark plans, found by a columnar rule that
 * FitBenchExtensions adds to the session; a partial read such as MLlib's `first()` counts its rows) and
 * `records_read_per_row` (the tasks' `inputMetrics.recordsRead` ÷ N: Parquet rows plus what Spark counts for reads
 * of its caches, one per row for a cached RDD such as MLlib's bagged points, one per 10,000-row batch for a cached
 * DataFrame such as the toolkit's persisted projection); task metrics (peak execution memory: max and sum over
 * tasks; shuffle written; spills); and the JVM's memory while the fit ran (local mode: the executor is the driver
 * JVM): used heap sampled every 200 ms, heap after each GC (from GC notifications), resident set size sampled and,
 * where /proc/self/clear_refs lets the peak be reset, the peak RSS (VmHWM). Toolkit fits also report the native
 * memory the histogram tasks held (`peakNativeBytesPerTask`, per level and overall).
 *
 * Data (written once per scenario as `--files-per-million` (8) Parquet files per 10^6 rows, at least 2; every value
 * a splitmix64 hash of (row id, column), so any layout gives the same rows): x_j ~ U(0, 1);
 * μ0 = 0, μ1 = ±0.5 on x0 > 0.5 ± 0.3 on x1 > 0.7 + 0.4·(x4 − 0.5), μ2 = ±0.4 on x2 ≤ 0.3 ± 0.2 on x3 > 0.5 + 0.4·(x5 − 0.5);
 * g_a = μ_a + U noise (sd 1); w uniform on {0, 1, 2}; y = μ_w + U noise (sd 1).
 *
 * Other flags: --reps R (3), --refine-bins-cases N,M (more `mllib` cases: `toolkit_exact_refineN`, the exact
 * search with `refineBins` N), --max-partition-bytes (Spark's default unless set), --out DIR (benches/results),
 * --name NAME (results file DIR/NAME.json; default "fit" when every size and scenario is the default, else "fit-quick").
 */
object FitBench {
  import FitData._
  import BenchMeasures._

  /** `--refine-bins-cases 0,32`: more `mllib`-scenario cases, the exact search with those `refineBins`. */
  private var refineBinsCases: Seq[Int] = Nil


  /** One fit as run: its key (scenario/case/run), wall seconds, memory peaks and the fitted model. */
  final case class Run(key: String, seconds: Double, memory: MemoryPeaks, model: AnyRef)

  /**
   * One case: `columns` are the input columns its fit reads (for the reference scan), `fit` fits it.
   * `learner` is set for toolkit cases (for its Params in the JSON).
   */
  final case class Case(name: String, columns: Seq[String], fit: DataFrame => AnyRef, learner: Option[PolicyTreeLearner] = None)

  final class Ctx(val spark: SparkSession, val metrics: CaseMetrics, val tmp: Path, val filesPerMillion: Int, val maxDepth: Int,
      val maxBins: Int)

  private def instrumented(ctx: Ctx, key: String)(body: => AnyRef): Run = {
    val sc = ctx.spark.sparkContext
    val watch = new MemoryWatch()
    sc.setLocalProperty(CaseProperty, key)
    val t0 = System.nanoTime()
    val model = try body finally sc.setLocalProperty(CaseProperty, null)
    val seconds = (System.nanoTime() - t0) / 1e9
    Run(key, seconds, watch.stop(), model)
  }

  /**
   * Checks the scan counter: the Parquet rows one plain scan of the scenario's data (a `noop` write) counts must be N.
   * Returns what it counted.
   */
  private def checkScanCounter(ctx: Ctx, label: String, data: DataFrame, rows: Long): Long = {
    val key = s"$label/scan-check"
    ctx.spark.sparkContext.setLocalProperty(CaseProperty, key)
    try data.write.format("noop").mode("overwrite").save()
    finally ctx.spark.sparkContext.setLocalProperty(CaseProperty, null)
    Thread.sleep(2000) // the listener bus is asynchronous
    val counted = ctx.metrics.of(key, "parquetRows")
    if (counted != rows) println(s"  WARNING: one plain scan counted $counted Parquet rows, not $rows: parquet_scans is off")
    counted
  }

  // ---- cases ------------------------------------------------------------------------------------------------

  private def toolkit(ctx: Ctx, name: String, features: Int, configure: PolicyTreeLearner => PolicyTreeLearner = identity,
      aipwFolds: Option[Int] = None): Case = {
    val base = new PolicyTreeLearner().setFeatureCols(featureNames(features)).setMaxDepth(ctx.maxDepth).setMaxBins(ctx.maxBins)
    val learner = configure(aipwFolds match {
      case Some(k) => base.setTreatmentCol("w").setOutcomeCol("y").setRewardType("aipw").setCrossFitFolds(k)
      case None => base.setRewardCols(rewardNames)
    })
    val columns = featureNames(features).toSeq ++ (if (aipwFolds.isDefined) Seq("w", "y") else rewardNames.toSeq)
    Case(name, columns, df => learner.fit(df), Some(learner))
  }

  private def mllib(ctx: Ctx, name: String, features: Int, label: String): Case = {
    val pipeline = new Pipeline().setStages(Array(
      new VectorAssembler().setInputCols(featureNames(features)).setOutputCol("features"),
      new DecisionTreeRegressor().setLabelCol(label).setFeaturesCol("features").setMaxDepth(ctx.maxDepth).setMaxBins(ctx.maxBins)))
    Case(name, featureNames(features).toSeq :+ label, df => pipeline.fit(df))
  }

  // ---- reporting --------------------------------------------------------------------------------------------

  private def phaseMap(m: PolicyTreeModel): Map[String, Long] = m.trainingSummary.phaseMillis

  private def toolkitJson(c: Case, runs: Seq[Run]): Seq[(String, Any)] = {
    val models = runs.map(_.model.asInstanceOf[PolicyTreeModel])
    val last = models.last
    val s = last.trainingSummary
    val phaseNames = phaseMap(last).keys.toSeq
    val root = last.nodeTable.byId(1)
    Seq(
      "params" -> obj(Seq("maxDepth", "maxBins", "thresholdSearch", "searchDepth", "minNodeSize", "boundarySampleSize",
        "rewardType", "crossFitFolds", "outcomeMaxDepth", "propensityModel").flatMap(p =>
        c.learner.flatMap(l => l.get(l.getParam(p)).orElse(l.getDefault(l.getParam(p)))).map(p -> _)): _*),
      "phase_seconds_median" -> obj(phaseNames.map(p => p -> Timing(models.map(m => phaseMap(m).getOrElse(p, 0L) / 1e3).toVector).median): _*),
      "phase_seconds_per_run" -> models.map(m => obj(phaseMap(m).toSeq.map { case (p, ms) => p -> ms / 1e3 }: _*)),
      "last_fit_levels" -> s.levels.map(l => obj("depth" -> l.depth, "frontier_nodes" -> l.frontierNodes,
        "feature_blocks" -> l.featureBlocks, "node_groups" -> l.nodeGroups, "records_to_driver" -> l.recordsToDriver,
        "nodes_split" -> l.nodesSplit, "millis" -> l.millis, "peak_native_bytes_per_task" -> l.peakNativeBytesPerTask)),
      "peak_native_bytes_per_task" -> s.peakNativeBytesPerTask,
      "training_rows" -> s.numRows,
      "reward_type" -> s.rewardType,
      "model_depth" -> last.depth,
      "model_nodes" -> last.numNodes,
      "root_split" -> (if (root.isLeaf) "leaf" else s"x${root.feature} <= ${root.threshold}"))
  }

  private def mllibJson(runs: Seq[Run]): Seq[(String, Any)] = {
    val tree = runs.last.model.asInstanceOf[PipelineModel].stages.last.asInstanceOf[DecisionTreeRegressionModel]
    Seq(
      "params" -> obj(Seq[Param[_]](tree.maxDepth, tree.maxBins, tree.minInstancesPerNode, tree.minInfoGain, tree.maxMemoryInMB,
        tree.cacheNodeIds, tree.impurity).map(p => p.name -> tree.getOrDefault(p.asInstanceOf[Param[Any]])): _*),
      "model_depth" -> tree.depth,
      "model_nodes" -> tree.numNodes,
      "root_split" -> (tree.rootNode match {
        case n: InternalNode => s"feature ${n.split.featureIndex}"
        case _ => "leaf"
      }))
  }

  /** The figures of one case from its runs (the timed ones; `timing` from them). */
  private def caseJson(ctx: Ctx, c: Case, runs: Seq[Run], timing: Timing, rows: Long): java.util.Map[String, Any] = {
    def perFit(metric: String): Double = runs.map(r => ctx.metrics.of(r.key, metric)).sum.toDouble / runs.size
    val memory = runs.map(_.memory).reduce(_ max _)
    val kind = if (c.learner.isDefined) toolkitJson(c, runs) else mllibJson(runs)
    val fields = Seq(
      "case" -> c.name,
      "library" -> (if (c.learner.isDefined) "spark-policy-toolkit PolicyTreeLearner" else "Spark MLlib VectorAssembler + DecisionTreeRegressor (Pipeline.fit)"),
      "median_seconds" -> timing.median,
      "min_seconds" -> timing.min,
      "max_seconds" -> timing.max,
      "seconds" -> timing.seconds,
      "input_columns" -> c.columns.size,
      "parquet_scans" -> perFit("parquetRows") / rows,
      "records_read_per_row" -> perFit("recordsRead") / rows,
      "tasks_per_fit" -> perFit("tasks"),
      "shuffle_bytes_written_per_fit" -> perFit("shuffleWrite"),
      "spilled_bytes_per_fit" -> obj("memory" -> perFit("memorySpilled"), "disk" -> perFit("diskSpilled")),
      "max_task_peak_execution_memory_bytes" -> runs.map(r => ctx.metrics.of(r.key, "peakExecutionMax")).max,
      "sum_task_peak_execution_memory_bytes_per_fit" -> perFit("peakExecutionSum"),
      "jvm_memory_during_fits" -> memory.json) ++ kind
    obj(fields: _*)
  }

  private def describe(c: String, t: Timing, runs: Seq[Run], ctx: Ctx, rows: Long): String = {
    val scans = runs.map(r => ctx.metrics.of(r.key, "parquetRows")).sum.toDouble / runs.size / rows
    val recs = runs.map(r => ctx.metrics.of(r.key, "recordsRead")).sum.toDouble / runs.size / rows
    val phases = runs.last.model match {
      case m: PolicyTreeModel =>
        "; " + phaseMap(m).map { case (p, ms) => f"$p ${ms / 1e3}%.2f" }.mkString(", ") +
          f"; peak native ${m.trainingSummary.peakNativeBytesPerTask / 1e6}%.1f MB/task; depth ${m.depth}, ${m.numNodes} nodes"
      case _ => ""
    }
    f"  $c%-16s median ${t.median}%7.2f s [${t.min}%.2f–${t.max}%.2f]; parquet scans $scans%.2f, records read/N $recs%.2f; " +
      f"max heap ${runs.map(_.memory.heapUsed).max / 1e9}%.2f GB$phases"
  }

  private def prepare(ctx: Ctx, label: String, rows: Long, features: Int): (Path, DataFrame, java.util.Map[String, Any]) = {
    val dir = ctx.tmp.resolve(s"scenario-$label")
    val files = math.max(2, math.ceil(rows / 1e6 * ctx.filesPerMillion).toInt)
    println(s"== ($label) $rows rows × $features features × $Arms arms, depth ${ctx.maxDepth}, maxBins ${ctx.maxBins}; Parquet ($files files) in $dir")
    val written = time(write(ctx.spark, dir, rows, features, files))
    val bytes = sizeOnDisk(dir)
    println(f"  generated and wrote the data in $written%.1f s (${bytes / 1e6}%.0f MB)")
    val data = ctx.spark.read.parquet(dir.toString)
    val checked = checkScanCounter(ctx, label, data, rows)
    (dir, data, obj("scan_counter_check_rows" -> checked, "rows" -> rows, "features" -> features, "arms" -> Arms, "max_depth" -> ctx.maxDepth, "max_bins" -> ctx.maxBins,
      "parquet_files" -> files, "parquet_bytes" -> bytes, "input_partitions" -> data.rdd.getNumPartitions, "data_write_seconds" -> written))
  }

  /** Cases round-robin (warm-up, then `reps` rounds); each case's JSON, keyed by case name. */
  private def roundRobin(ctx: Ctx, label: String, data: DataFrame, rows: Long, cases: Seq[Case], reps: Int): Map[String, (Timing, java.util.Map[String, Any])] = {
    val runs = cases.map(c => c.name -> scala.collection.mutable.ArrayBuffer.empty[Run]).toMap
    val timed = cases.map { c =>
      c.name -> (() => { runs(c.name) += instrumented(ctx, s"$label/${c.name}/${runs(c.name).size}")(c.fit(data)); () })
    }
    val timings = measureRoundRobin(timed, reps).toMap
    Thread.sleep(3000) // the listener bus is asynchronous: let the last task-end events arrive
    cases.map { c =>
      val timedRuns = runs(c.name).drop(1).toSeq // run 0 is the warm-up
      println(describe(c.name, timings(c.name), timedRuns, ctx, rows))
      c.name -> (timings(c.name) -> caseJson(ctx, c, timedRuns, timings(c.name), rows))
    }.toMap
  }

  private def ratios(results: Map[String, (Timing, java.util.Map[String, Any])], baseline: String, toolkitCases: Seq[String]): java.util.Map[String, Any] = {
    val b = results(baseline)._1
    obj(toolkitCases.map { c =>
      val t = results(c)._1
      val r = b.median / t.median
      println(f"  $baseline median / $c median = $r%.2f× (range ${b.min / t.max}%.2f–${b.max / t.min}%.2f×)")
      c -> obj("mllib_median_over_toolkit_median" -> r, "range_min_over_max_to_max_over_min" -> Seq(b.min / t.max, b.max / t.min),
        "meets_5x_target" -> (r >= 5.0), "meets_10x_stretch" -> (r >= 10.0))
    }: _*)
  }

  private def withData[T](ctx: Ctx, label: String, rows: Long, features: Int)(body: (DataFrame, java.util.Map[String, Any]) => T): T = {
    val (dir, data, facts) = prepare(ctx, label, rows, features)
    try body(data, facts) finally deleteRecursively(dir)
  }

  private def mllibScenario(ctx: Ctx, rows: Long, f: Int, reps: Int): java.util.Map[String, Any] =
    withData(ctx, s"mllib-f$f", rows, f) { (data, facts) =>
      val loadBefore = loadAverage
      val refineCases = refineBinsCases.map(n => toolkit(ctx, s"toolkit_exact_refine$n", f, _.setRefineBins(n)))
      val cases = Seq(toolkit(ctx, "toolkit_exact", f), toolkit(ctx, "toolkit_binned", f, _.setThresholdSearch("binned"))) ++
        refineCases :+ mllib(ctx, "mllib", f, "g1")
      val results = roundRobin(ctx, s"mllib-f$f", data, rows, cases, reps)
      facts.put("scenario", "mllib")
      facts.put("label", "g1 (MLlib); g0, g1, g2 (toolkit, given rewards)")
      facts.put("load_average_before", loadBefore)
      facts.put("load_average_after", loadAverage)
      facts.put("ratios", ratios(results, "mllib", Seq("toolkit_exact", "toolkit_binned") ++ refineCases.map(_.name)))
      facts.put("cases", cases.map(c => results(c.name)._2).asJava)
      facts
    }

  private def aipwScenario(ctx: Ctx, rows: Long, features: Int, folds: Int, reps: Int): java.util.Map[String, Any] =
    withData(ctx, "aipw", rows, features) { (data, facts) =>
      val loadBefore = loadAverage
      val cases = Seq(toolkit(ctx, "toolkit_aipw", features, aipwFolds = Some(folds)), mllib(ctx, "mllib", features, "y"))
      val results = roundRobin(ctx, "aipw", data, rows, cases, reps)
      facts.put("scenario", "aipw")
      facts.put("label", "y (MLlib); outcome y, treatment w (toolkit, AIPW rewards)")
      facts.put("cross_fit_folds", folds)
      facts.put("load_average_before", loadBefore)
      facts.put("load_average_after", loadAverage)
      facts.put("ratios", ratios(results, "mllib", Seq("toolkit_aipw")))
      facts.put("cases", cases.map(c => results(c.name)._2).asJava)
      facts
    }

  /** One timed toolkit fit (defaults), no warm-up: `big` and `wide`. */
  private def singleScenario(ctx: Ctx, label: String, rows: Long, features: Int): java.util.Map[String, Any] =
    withData(ctx, label, rows, features) { (data, facts) =>
      val c = toolkit(ctx, "toolkit_exact", features)
      val loadBefore = loadAverage
      System.gc()
      val run = instrumented(ctx, s"$label/${c.name}/0")(c.fit(data))
      val loadAfter = loadAverage
      Thread.sleep(3000)
      val t = Timing(Vector(run.seconds))
      println(describe(c.name, t, Seq(run), ctx, rows))
      val m = run.memory
      println(f"  wall ${run.seconds}%.1f s; JVM heap: max used (sampled) ${m.heapUsed / 1e9}%.2f GB, max after GC ${m.heapAfterGc / 1e9}%.2f GB; " +
        f"RSS max ${m.rss / 1e9}%.2f GB${m.hwm.map(h => f", VmHWM ${h / 1e9}%.2f GB").getOrElse("")}; " +
        f"task peak execution memory max ${ctx.metrics.of(run.key, "peakExecutionMax") / 1e6}%.0f MB")
      facts.put("scenario", label)
      facts.put("label", "g0, g1, g2 (toolkit, given rewards)")
      facts.put("timing", "one timed fit, no warm-up run (the session has run the scenarios before it, if any)")
      facts.put("load_average_before", loadBefore)
      facts.put("load_average_after", loadAfter)
      facts.put("driver_max_heap_bytes", Runtime.getRuntime.maxMemory())
      facts.put("cases", Seq(caseJson(ctx, c, Seq(run), t, rows)).asJava)
      facts
    }

  def main(args: Array[String]): Unit = {
    val opts = LocalRun.options(args)
    val all = Seq("mllib", "aipw", "big", "wide")
    val only = opts.get("scenarios").map(_.split(",").map(_.trim).filter(_.nonEmpty).toSeq).getOrElse(all)
    require(only.forall(all.contains), s"--scenarios takes a subset of ${all.mkString(",")}")
    val rows = opts.getOrElse("rows", "1000000").toLong
    val featureSet = opts.getOrElse("features", "10,50,200").split(",").map(_.trim.toInt).toSeq
    val reps = opts.getOrElse("reps", "3").toInt
    val maxDepth = opts.getOrElse("max-depth", "4").toInt
    val maxBins = opts.getOrElse("max-bins", "64").toInt
    val aipwRows = opts.get("aipw-rows").map(_.toLong).getOrElse(rows)
    val aipwFeatures = opts.getOrElse("aipw-features", "50").toInt
    val aipwFolds = opts.getOrElse("aipw-folds", "5").toInt
    val bigRows = opts.getOrElse("big-rows", "10000000").toLong
    val bigFeatures = opts.getOrElse("big-features", "100").toInt
    val wideRows = opts.getOrElse("wide-rows", "50000").toLong
    val wideFeatures = opts.getOrElse("wide-features", "10000").toInt
    val filesPerMillion = opts.getOrElse("files-per-million", "8").toInt
    refineBinsCases = opts.get("refine-bins-cases").map(_.split(",").map(_.trim.toInt).toSeq).getOrElse(Nil)
    require(reps >= 1, "--reps must be at least 1")
    val full = only.toSet == all.toSet && rows == 1000000L && featureSet == Seq(10, 50, 200) && reps >= 3 && maxDepth == 4 &&
      maxBins == 64 && aipwRows == 1000000L && aipwFeatures == 50 && aipwFolds == 5 && bigRows == 10000000L && bigFeatures == 100 &&
      wideRows == 50000L && wideFeatures == 10000 && !opts.contains("max-partition-bytes")
    val name = opts.getOrElse("name", if (full) "fit" else "fit-quick")
    val out = Path.of(opts.getOrElse("out", "benches/results")).resolve(s"$name.json")

    val builder = LocalRun.session("local[2]", "sparkpolicy-bench-fit")
      .config("spark.sql.extensions", classOf[FitBenchExtensions].getName)
      .config("spark.sql.shuffle.partitions", "4")
      .config("spark.cleaner.periodicGC.interval", "1min")
    opts.get("max-partition-bytes").foreach(b => builder.config("spark.sql.files.maxPartitionBytes", b))
    val spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("WARN")
    val metrics = new CaseMetrics
    spark.sparkContext.addSparkListener(metrics)
    val tmp = Files.createTempDirectory("sparkpolicy-bench-fit")
    val ctx = new Ctx(spark, metrics, tmp, filesPerMillion, maxDepth, maxBins)
    val started = System.nanoTime()
    try {
      val loadBefore = loadAverage
      val scenarios = scala.collection.mutable.ArrayBuffer.empty[java.util.Map[String, Any]]
      // Written after every scenario (with "complete" false until the last), so a failure or an interrupted run keeps
      // what finished; a scenario that throws is recorded with its error and the next one runs.
      def result(complete: Boolean) = results(spark)(
        "benchmark" -> ("fit speed against Spark MLlib's DecisionTreeRegressor, GitHub issue #12 " +
          "(jvm/src/test/scala/org/sparkpolicy/bench/FitBench.scala)"),
        "spark_sql_files_max_partition_bytes" -> spark.conf.get("spark.sql.files.maxPartitionBytes"),
        "git_commit" -> git("rev-parse", "HEAD"),
        "git_status" -> git("status", "--porcelain", "--untracked-files=no"),
        "load_average_before" -> loadBefore,
        "load_average_after" -> loadAverage,
        "wall_seconds" -> (System.nanoTime() - started) / 1e9,
        "repetitions" -> reps,
        "statistic" -> ("mllib and aipw: median, min and max of the timed repetitions of the fit, after one warm-up run per " +
          "case, cases round-robin; big and wide: one timed fit"),
        "data" -> ("x_j ~ U(0,1), g_a = μ_a + uniform noise (sd 1), w uniform on {0,1,2}, y = μ_w + noise, all hashed from " +
          "the row id; μ0 = 0, μ1 = ±0.5 on x0 > 0.5 ± 0.3 on x1 > 0.7 + 0.4(x4 − 0.5), " +
          "μ2 = ±0.4 on x2 <= 0.3 ± 0.2 on x3 > 0.5 + 0.4(x5 − 0.5); written once to Parquet per scenario, read back"),
        "measures" -> obj(
          "parquet_scans" -> ("rows output by the fit's Parquet scans (the number-of-output-rows metric of every " +
            "FileSourceScanExec, summed over the fit's tasks) / N: how many times the fit read the Parquet file; a partial " +
            "read (e.g. MLlib's first()) counts the rows it read"),
          "records_read_per_row" -> ("sum of the fit's tasks' inputMetrics.recordsRead / N: Parquet rows, plus one per row " +
            "for each read of a cached RDD (MLlib's bagged points, once per level) and one per 10,000-row batch for each " +
            "read of a cached DataFrame (the toolkit's persisted projection)"),
          "phase_seconds" -> "toolkit only: trainingSummary.phaseMillis (validate, boundaries, aipw, binning, levels, signatures)",
          "jvm_memory_during_fits" -> ("local mode, so the executor is the driver JVM: used heap sampled every 200 ms, heap " +
            "after each GC (GC notifications), process RSS sampled, and VmHWM (peak RSS, reset before each fit when " +
            "/proc/self/clear_refs allows it; else null); maxima over the case's timed fits"),
          "peak_native_bytes_per_task" -> "toolkit only: the largest native (off-heap) memory a histogram task held, per level"),
        "complete" -> complete,
        "scenarios" -> scenarios.toSeq)
      def guarded(label: String)(body: => java.util.Map[String, Any]): Unit = {
        scenarios += (try body catch {
          case e: Exception =>
            println(s"  FAILED ($label): $e")
            obj("scenario" -> label, "error" -> e.toString)
        })
        writeJson(out, result(complete = false))
      }
      only.foreach {
        case "mllib" => featureSet.foreach(f => guarded(s"mllib-f$f")(mllibScenario(ctx, rows, f, reps)))
        case "aipw" => guarded("aipw")(aipwScenario(ctx, aipwRows, aipwFeatures, aipwFolds, reps))
        case "big" => guarded("big")(singleScenario(ctx, "big", bigRows, bigFeatures))
        case "wide" => guarded("wide")(singleScenario(ctx, "wide", wideRows, wideFeatures))
      }
      writeJson(out, result(complete = true))
      println(s"wrote $out")
    } finally {
      spark.stop()
      deleteRecursively(tmp)
    }
  }
}

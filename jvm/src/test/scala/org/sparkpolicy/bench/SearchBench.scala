package org.sparkpolicy.bench

import java.nio.file.{Files, Path}

import org.apache.spark.sql.{Column, DataFrame, SparkSession}
import org.apache.spark.sql.functions.{avg, col, lit, pmod, when, xxhash64}
import org.sparkpolicy.bench.BenchMeasures.{CaseMetrics, CaseProperty}
import org.sparkpolicy.bench.BenchSupport._
import org.sparkpolicy.examples.LocalRun
import org.sparkpolicy.ml.{PolicyTreeLearner, PolicyTreeModel}
import org.sparkpolicy.ml.model.PolicyOutputColumns

/**
 * `make bench-search` (not part of `make test`): what exact thresholds and the two-level search
 * (`searchDepth = 2`, GitHub issue #11) cost in fit time, on given rewards written once to Parquet and
 * read back, all in one Spark session (local[2], 127.0.0.1, UI off).
 *
 * Scenarios, each on its own data, its cases timed round-robin (BenchSupport.measureRoundRobin: one
 * warm-up per case, then `--reps` rounds), all at maxDepth 2:
 *  (a) `--rows-a` (1M) × `--features-a` (20) × 3 arms: greedy (defaults: exact thresholds, searchDepth 1),
 *      greedy with thresholdSearch "binned", two-level (searchDepth 2);
 *  (b) `--rows-b` (200k) × `--features-b` (100) × 3 arms: greedy, two-level, and two-level with
 *      maxMemoryMB = `--b-small-memory` (64; 0 skips it), to show the pair histograms stay in budget;
 *  (c) `--rows-c` (10M) × `--features-c` (30) × `--arms-c` (4): greedy and two-level; `--skip-c true` skips it.
 * Per case: median, min and max seconds of `learner.fit`, the level searches' share of it
 * (trainingSummary.levels), each level's feature/root blocks and peak native bytes per task, the shuffle
 * and spilled bytes of a fit (mean over its runs), the largest task peak execution memory, and the fitted
 * tree's true policy value on the data (from μ, not Γ).
 *
 * The rewards Γ_a = μ_a + U(−√3, √3) noise (sd 1), features x_j ~ U(0, 1), all hashes of the row id:
 * μ0 = 0; μ1 = +0.5 where (x0 > 0.5) xor (x1 > 0.5), else −0.5 (an interaction no single split sees);
 * μ2 = +0.3 where x2 ≤ 0.3, else −0.3; μ3 = +0.3 where x3 > 0.7, else −0.3 (4 arms only).
 *
 * Flags: the sizes above, --scenarios a,b,c (all), --reps R (2), --files-per-million N (8: Parquet files written per 10^6 rows),
 * --out DIR (benches/results), --name NAME (results file DIR/NAME.json; default "search" when every
 * size is the default and (c) runs, else "search-quick").
 */
object SearchBench {

  /** Uniform [0, 1) from a hash of (id, salt), as PlantedPolicyData draws its features. */
  private def uniform(salt: Long): Column =
    pmod(xxhash64(col("id"), lit(salt)), lit(1L << 53)).cast("double") / lit((1L << 53).toDouble)

  private def mus(arms: Int): Seq[Column] = {
    val xor = (col("x0") > 0.5) =!= (col("x1") > 0.5)
    Seq(lit(0.0), when(xor, 0.5).otherwise(-0.5), when(col("x2") <= 0.3, 0.3).otherwise(-0.3),
      when(col("x3") > 0.7, 0.3).otherwise(-0.3)).take(arms)
  }

  def featureNames(features: Int): Array[String] = Array.tabulate(features)(j => s"x$j")
  def rewardNames(arms: Int): Array[String] = Array.tabulate(arms)(a => s"g$a")

  /** Features, Γ and μ columns, generated from row ids on executors and written once as `files` Parquet files. */
  def write(spark: SparkSession, dir: Path, rows: Long, features: Int, arms: Int, files: Int): Unit = {
    require(features >= 4 && arms >= 3 && arms <= 4, "the generator plants x0..x3 and 3 or 4 arms")
    val xs = (0 until features).map(j => uniform(1000 + j).as(s"x$j"))
    val base = spark.range(0L, rows, 1L, files).select(col("id") +: xs: _*)
    val withMu = mus(arms).zipWithIndex.foldLeft(base) { case (df, (m, a)) => df.withColumn(s"mu$a", m) }
    val noise = (a: Int) => (uniform(5000 + a) - lit(0.5)) * lit(math.sqrt(12.0))
    val out = (0 until arms).foldLeft(withMu) { case (df, a) => df.withColumn(s"g$a", col(s"mu$a") + noise(a)) }
    out.drop("id").write.parquet(dir.toString)
  }

  /** Mean true reward of the model's arms over `data`: the fitted policy's value (the planted optimum is 0.5 + …). */
  def trueValue(model: PolicyTreeModel, data: DataFrame, arms: Int): Double = {
    val idx = col(PolicyOutputColumns.ActionIndex)
    val chosen = (1 until arms).foldLeft(col("mu0")) { case (acc, a) => when(idx === a, col(s"mu$a")).otherwise(acc) }
    model.transform(data).select(avg(chosen)).head().getDouble(0)
  }

  final case class Case(name: String, learner: PolicyTreeLearner)

  def main(args: Array[String]): Unit = {
    val opts = LocalRun.options(args)
    val rowsA = opts.getOrElse("rows-a", "1000000").toLong
    val featuresA = opts.getOrElse("features-a", "20").toInt
    val rowsB = opts.getOrElse("rows-b", "200000").toLong
    val featuresB = opts.getOrElse("features-b", "100").toInt
    val smallMemoryB = opts.getOrElse("b-small-memory", "64").toInt
    val rowsC = opts.getOrElse("rows-c", "10000000").toLong
    val featuresC = opts.getOrElse("features-c", "30").toInt
    val armsC = opts.getOrElse("arms-c", "4").toInt
    val only = opts.get("scenarios").map(_.split(",").map(_.trim).toSet).getOrElse(Set("a", "b", "c"))
    val skipC = opts.get("skip-c").contains("true") || !only("c")
    val reps = opts.getOrElse("reps", "2").toInt
    val filesPerMillion = opts.getOrElse("files-per-million", "8").toInt
    require(reps >= 1, "--reps must be at least 1")
    val full = only == Set("a", "b", "c") && rowsA == 1000000L && featuresA == 20 && rowsB == 200000L && featuresB == 100 && !skipC &&
      rowsC == 10000000L && featuresC == 30 && armsC == 4 && reps >= 2
    val name = opts.getOrElse("name", if (full) "search" else "search-quick")
    val out = Path.of(opts.getOrElse("out", "benches/results")).resolve(s"$name.json")

    val spark = LocalRun.session("local[2]", "sparkpolicy-bench-search")
      .config("spark.sql.shuffle.partitions", "4")
      // Two-level fits shuffle GBs of pair partials; a GC a minute lets the ContextCleaner delete finished fits' shuffle files.
      .config("spark.cleaner.periodicGC.interval", "1min")
      .getOrCreate()
    spark.sparkContext.setLogLevel("WARN")
    val metrics = new CaseMetrics
    spark.sparkContext.addSparkListener(metrics)
    val tmp = Files.createTempDirectory("sparkpolicy-bench-search")
    val started = System.nanoTime()
    try {
      val loadBefore = loadAverage
      def learner(features: Int, arms: Int): PolicyTreeLearner =
        new PolicyTreeLearner().setFeatureCols(featureNames(features)).setRewardCols(rewardNames(arms)).setMaxDepth(2)
      val a = if (!only("a")) null else scenario(spark, tmp, metrics, "a", rowsA, featuresA, 3, reps, filesPerMillion, Seq(
        Case("greedy", learner(featuresA, 3)),
        Case("greedy_binned", learner(featuresA, 3).setThresholdSearch("binned")),
        Case("two_level", learner(featuresA, 3).setSearchDepth(2))))
      val b = if (!only("b")) null else scenario(spark, tmp, metrics, "b", rowsB, featuresB, 3, reps, filesPerMillion, Seq(
        Case("greedy", learner(featuresB, 3)),
        Case("two_level", learner(featuresB, 3).setSearchDepth(2))) ++
        (if (smallMemoryB > 0) Seq(Case(s"two_level_maxMemoryMB_$smallMemoryB", learner(featuresB, 3).setSearchDepth(2).setMaxMemoryMB(smallMemoryB)))
        else Nil))
      val c = if (skipC) null else scenario(spark, tmp, metrics, "c", rowsC, featuresC, armsC, reps, filesPerMillion, Seq(
        Case("greedy", learner(featuresC, armsC)),
        Case("two_level", learner(featuresC, armsC).setSearchDepth(2))))
      val result = results(spark)(
        "benchmark" -> "fit cost of exact thresholds and the two-level search (jvm/src/test/scala/org/sparkpolicy/bench/SearchBench.scala)",
        "git_commit" -> git("rev-parse", "HEAD"),
        "git_status" -> git("status", "--porcelain", "--untracked-files=no"),
        "load_average_before" -> loadBefore,
        "load_average_after" -> loadAverage,
        "wall_seconds" -> (System.nanoTime() - started) / 1e9,
        "repetitions" -> reps,
        "statistic" -> "median, min and max of the timed repetitions of learner.fit, after one warm-up run per case; cases round-robin",
        "data" -> ("Γ_a = μ_a + uniform noise (sd 1), x_j ~ U(0,1) hashed from the row id; μ1 = ±0.5 on (x0 > 0.5) xor (x1 > 0.5), " +
          "μ2 = ±0.3 on x2 <= 0.3, μ3 = ±0.3 on x3 > 0.7, μ0 = 0; written once to Parquet, read back per scenario"),
        "learner" -> "PolicyTreeLearner(featureCols, rewardCols = g0.., maxDepth = 2), every other Param at its default unless the case sets it",
        "scenarios" -> Seq(a, b, c).filter(_ != null))
      writeJson(out, result)
      println(s"wrote $out")
    } finally {
      spark.stop()
      deleteRecursively(tmp)
    }
  }

  private def rootSplit(m: PolicyTreeModel): String = {
    val n = m.nodeTable.byId(1)
    if (n.isLeaf) "leaf" else s"x${n.feature} <= ${n.threshold}"
  }

  private def scenario(spark: SparkSession, tmp: Path, metrics: CaseMetrics, label: String, rows: Long, features: Int, arms: Int,
      reps: Int, filesPerMillion: Int, cases: Seq[Case]): java.util.Map[String, Any] = {
    val dir = tmp.resolve(s"scenario-$label")
    val files = math.max(2, math.ceil(rows / 1e6 * filesPerMillion).toInt)
    println(s"== ($label) $rows rows × $features features × $arms arms, maxDepth 2; Parquet ($files files) in $dir")
    val written = time(write(spark, dir, rows, features, arms, files))
    println(f"  generated and wrote the data in $written%.1f s (${sizeOnDisk(dir) / 1e6}%.0f MB)")
    val data = spark.read.parquet(dir.toString)
    val inputPartitions = data.rdd.getNumPartitions
    val models = scala.collection.mutable.Map.empty[String, PolicyTreeModel]
    val sc = spark.sparkContext
    val timed = cases.map { c =>
      c.name -> (() => {
        sc.setLocalProperty(CaseProperty, s"$label/${c.name}")
        try models(c.name) = c.learner.fit(data)
        finally sc.setLocalProperty(CaseProperty, null)
      })
    }
    val loadBefore = loadAverage
    val timings = measureRoundRobin(timed, reps).toMap
    val loadAfter = loadAverage
    Thread.sleep(3000) // the listener bus is asynchronous: let the last task-end events arrive
    def perFit(c: Case, metric: String): Long = metrics.of(s"$label/${c.name}", metric) / (reps + 1)
    val shuffleBytes = cases.map(c => c.name -> perFit(c, "shuffleWrite")).toMap
    val greedy = timings(cases.head.name)
    val greedyLevels = models(cases.head.name).trainingSummary.levels.map(_.millis).sum / 1e3
    val results = cases.map { c =>
      val t = timings(c.name)
      val m = models(c.name)
      val levels = m.trainingSummary.levels
      val levelSeconds = levels.map(_.millis).sum / 1e3
      val value = trueValue(m, data, arms)
      println(f"  ${c.name}%-28s median ${t.median}%7.2f s [${t.min}%.2f–${t.max}%.2f], ×${t.median / greedy.median}%.2f greedy; " +
        f"levels $levelSeconds%.2f s; peak native ${m.trainingSummary.peakNativeBytesPerTask / 1e6}%.1f MB/task; " +
        f"shuffle ${shuffleBytes(c.name) / 1e6}%.0f MB, spilled ${perFit(c, "diskSpilled") / 1e6}%.0f MB to disk, " +
        f"task peak execution memory ${metrics.of(s"$label/${c.name}", "peakExecutionMax") / 1e6}%.0f MB; true value $value%.4f; root ${rootSplit(m)}")
      obj(
        "case" -> c.name,
        "params" -> obj(Seq("thresholdSearch", "searchDepth", "maxBins", "maxMemoryMB", "minNodeSize").map(p =>
          p -> c.learner.getOrDefault(c.learner.getParam(p))): _*),
        "median_seconds" -> t.median,
        "min_seconds" -> t.min,
        "max_seconds" -> t.max,
        "seconds" -> t.seconds,
        "median_vs_greedy" -> t.median / greedy.median,
        "min_max_vs_greedy_median" -> Seq(t.min / greedy.median, t.max / greedy.median),
        "last_fit_level_search_seconds" -> levelSeconds,
        "last_fit_level_search_vs_greedy" -> levelSeconds / greedyLevels,
        "last_fit_levels" -> levels.map(l => obj("depth" -> l.depth, "frontier_nodes" -> l.frontierNodes,
          "feature_or_root_blocks" -> l.featureBlocks, "node_groups" -> l.nodeGroups, "records_to_driver" -> l.recordsToDriver,
          "millis" -> l.millis, "peak_native_bytes_per_task" -> l.peakNativeBytesPerTask)),
        "peak_native_bytes_per_task" -> m.trainingSummary.peakNativeBytesPerTask,
        "shuffle_bytes_written_per_fit" -> shuffleBytes(c.name),
        "spilled_bytes_per_fit" -> obj("memory" -> perFit(c, "memorySpilled"), "disk" -> perFit(c, "diskSpilled")),
        "max_task_peak_execution_memory_bytes" -> metrics.of(s"$label/${c.name}", "peakExecutionMax"),
        "model_depth" -> m.depth,
        "model_nodes" -> m.numNodes,
        "true_policy_value" -> value,
        "root_split" -> rootSplit(m),
        "tree" -> m.toDebugString)
    }
    deleteRecursively(dir)
    obj(
      "scenario" -> label,
      "rows" -> rows,
      "features" -> features,
      "arms" -> arms,
      "max_depth" -> 2,
      "parquet_files" -> files,
      "input_partitions" -> inputPartitions,
      "data_write_seconds" -> written,
      "load_average_before" -> loadBefore,
      "load_average_after" -> loadAfter,
      "cases" -> results)
  }
}

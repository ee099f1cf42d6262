package org.sparkpolicy.bench

import java.nio.file.{Files, Path}

import org.apache.spark.ml.{Pipeline, PipelineModel}
import org.apache.spark.ml.feature.VectorAssembler
import org.apache.spark.ml.param.Param
import org.apache.spark.ml.regression.{RandomForestRegressionModel, RandomForestRegressor}
import org.apache.spark.sql.DataFrame
import org.sparkpolicy.bench.BenchSupport._
import org.sparkpolicy.examples.LocalRun
import org.sparkpolicy.ml.{PolicyForestLearner, PolicyForestModel}

/**
 * `make bench-forest-fit` (not part of `make test`): GitHub issue #13's forest fit-time benchmark. The toolkit's
 * `PolicyForestLearner` (3 arms of given rewards g0..g2, all trees grown together) against Spark MLlib's
 * `RandomForestRegressor` on one reward column (a `Pipeline` of `VectorAssembler(x0..)` and the forest, label g1,
 * fitted as a user would), on the same Parquet file (FitData: 1M rows × 20 features by default, written once) in
 * one Spark session (local[2], 127.0.0.1, UI off).
 *
 * Both sides get the same `--trees` (100), `--max-depth` (4), `--max-bins` (32, MLlib's default), `--subsampling-rate`
 * (0.5, the toolkit's default) and `--feature-subset-strategy` ("onethird", MLlib's `auto` for regression), and seed.
 * MLlib samples without replacement (`bootstrap = false`), as the toolkit does; the toolkit's trees are not honest
 * (`--honest false`: MLlib has no honest estimation, and honest trees choose their structure on half their rows).
 * `--cases toolkit,mllib,toolkit_honest` adds the toolkit's default honest forest as a third case.
 *
 * Cases run round-robin (BenchSupport.measureRoundRobin: one warm-up each, then `--reps` (3) rounds); the figures are
 * median, min and max seconds and the MLlib/toolkit ratio of medians, with per fit the Parquet scans (rows the scans
 * output ÷ N, FitBenchExtensions), task records read ÷ N, the JVM's peak heap and, for the toolkit, its phases.
 * Writes benches/results/forest-fit.json at the default shape with ≥ 3 rounds, else forest-fit-quick.json
 * (`--name NAME` overrides; `--out DIR`).
 */
object ForestFitBench {
  import BenchMeasures._
  import FitData._

  final case class Run(key: String, seconds: Double, memory: MemoryPeaks, model: AnyRef)

  def main(args: Array[String]): Unit = {
    val opts = LocalRun.options(args)
    val rows = opts.getOrElse("rows", "1000000").toLong
    val features = opts.getOrElse("features", "20").toInt
    val trees = opts.getOrElse("trees", "100").toInt
    val maxDepth = opts.getOrElse("max-depth", "4").toInt
    val maxBins = opts.getOrElse("max-bins", "32").toInt
    val rate = opts.getOrElse("subsampling-rate", "0.5").toDouble
    val strategy = opts.getOrElse("feature-subset-strategy", "onethird")
    val honest = opts.getOrElse("honest", "false").toBoolean
    val seed = opts.getOrElse("seed", "42").toLong
    val reps = opts.getOrElse("reps", "3").toInt
    val filesPerMillion = opts.getOrElse("files-per-million", "8").toInt
    val caseNames = opts.getOrElse("cases", "toolkit,mllib").split(",").map(_.trim).filter(_.nonEmpty).toSeq
    require(caseNames.forall(Set("toolkit", "mllib", "toolkit_honest")), "--cases takes toolkit, mllib, toolkit_honest")
    require(reps >= 1, "--reps must be at least 1")
    val full = rows == 1000000L && features == 20 && trees == 100 && maxDepth == 4 && maxBins == 32 && rate == 0.5 &&
      strategy == "onethird" && !honest && reps >= 3 && caseNames.toSet == Set("toolkit", "mllib")
    val out = Path.of(opts.getOrElse("out", "benches/results"))
      .resolve(opts.getOrElse("name", if (full) "forest-fit" else "forest-fit-quick") + ".json")

    val spark = LocalRun.session("local[2]", "sparkpolicy-bench-forest-fit")
      .config("spark.sql.extensions", classOf[FitBenchExtensions].getName)
      .config("spark.sql.shuffle.partitions", "4")
      .config("spark.cleaner.periodicGC.interval", "1min")
      .getOrCreate()
    spark.sparkContext.setLogLevel("WARN")
    val metrics = new CaseMetrics
    spark.sparkContext.addSparkListener(metrics)
    val tmp = Files.createTempDirectory("sparkpolicy-bench-forest-fit")
    val started = System.nanoTime()
    try {
      val loadBefore = loadAverage
      val dir = tmp.resolve("data")
      val files = math.max(2, math.ceil(rows / 1e6 * filesPerMillion).toInt)
      println(s"== $rows rows × $features features × $Arms arms; $trees trees, depth $maxDepth, maxBins $maxBins, " +
        s"subsamplingRate $rate, featureSubsetStrategy $strategy; Parquet ($files files) in $dir")
      val written = time(write(spark, dir, rows, features, files))
      val data = spark.read.parquet(dir.toString)
      println(f"  wrote the data in $written%.1f s (${sizeOnDisk(dir) / 1e6}%.0f MB), ${data.rdd.getNumPartitions} input partitions")

      def toolkit(h: Boolean) = new PolicyForestLearner().setFeatureCols(featureNames(features)).setRewardCols(rewardNames)
        .setNumTrees(trees).setMaxDepth(maxDepth).setMaxBins(maxBins).setSubsamplingRate(rate)
        .setFeatureSubsetStrategy(strategy).setHonest(h).setSeed(seed)
      val rf = new RandomForestRegressor().setLabelCol("g1").setFeaturesCol("features").setNumTrees(trees)
        .setMaxDepth(maxDepth).setMaxBins(maxBins).setSubsamplingRate(rate).setFeatureSubsetStrategy(strategy)
        .setBootstrap(false).setSeed(seed)
      val pipeline = new Pipeline().setStages(Array(
        new VectorAssembler().setInputCols(featureNames(features)).setOutputCol("features"), rf))
      val fits: Map[String, DataFrame => AnyRef] = Map(
        "toolkit" -> (df => toolkit(honest).fit(df)),
        "toolkit_honest" -> (df => toolkit(true).fit(df)),
        "mllib" -> (df => pipeline.fit(df)))

      val runs = caseNames.map(c => c -> scala.collection.mutable.ArrayBuffer.empty[Run]).toMap
      val timed = caseNames.map { c =>
        c -> (() => {
          val key = s"$c/${runs(c).size}"
          val watch = new MemoryWatch()
          spark.sparkContext.setLocalProperty(CaseProperty, key)
          val t0 = System.nanoTime()
          val model = try fits(c)(data) finally spark.sparkContext.setLocalProperty(CaseProperty, null)
          runs(c) += Run(key, (System.nanoTime() - t0) / 1e9, watch.stop(), model)
          ()
        })
      }
      val timings = measureRoundRobin(timed, reps).toMap
      val loadAfter = loadAverage
      Thread.sleep(3000) // the listener bus is asynchronous: let the last task-end events arrive

      def perFit(c: String, metric: String): Double = {
        val rs = runs(c).drop(1)
        rs.map(r => metrics.of(r.key, metric)).sum.toDouble / rs.size
      }
      val caseJson = caseNames.map { c =>
        val t = timings(c)
        val rs = runs(c).drop(1).toSeq // run 0 is the warm-up
        println(f"  $c%-15s median ${t.median}%7.2f s [${t.min}%.2f–${t.max}%.2f]; parquet scans ${perFit(c, "parquetRows") / rows}%.2f, " +
          f"records read/N ${perFit(c, "recordsRead") / rows}%.2f; max heap ${rs.map(_.memory.heapUsed).max / 1e9}%.2f GB; ${describe(rs.last.model)}")
        obj(Seq(
          "case" -> c,
          "library" -> (if (c == "mllib") "Spark MLlib VectorAssembler + RandomForestRegressor (Pipeline.fit), label g1"
            else "spark-policy-toolkit PolicyForestLearner, given rewards g0, g1, g2"),
          "median_seconds" -> t.median, "min_seconds" -> t.min, "max_seconds" -> t.max, "seconds" -> t.seconds,
          "warm_up_seconds" -> runs(c).head.seconds,
          "parquet_scans" -> perFit(c, "parquetRows") / rows,
          "records_read_per_row" -> perFit(c, "recordsRead") / rows,
          "tasks_per_fit" -> perFit(c, "tasks"),
          "shuffle_bytes_written_per_fit" -> perFit(c, "shuffleWrite"),
          "max_task_peak_execution_memory_bytes" -> rs.map(r => metrics.of(r.key, "peakExecutionMax")).max,
          "jvm_memory_during_fits" -> rs.map(_.memory).reduce(_ max _).json) ++ modelJson(rs.last.model): _*)
      }
      val ratios = caseNames.filter(_ != "mllib").filter(_ => caseNames.contains("mllib")).map { c =>
        val (b, t) = (timings("mllib"), timings(c))
        println(f"  mllib median / $c median = ${b.median / t.median}%.2f× (range ${b.min / t.max}%.2f–${b.max / t.min}%.2f×)")
        c -> obj("mllib_median_over_toolkit_median" -> b.median / t.median,
          "range_min_over_max_to_max_over_min" -> Seq(b.min / t.max, b.max / t.min))
      }
      writeJson(out, results(spark)(
        "benchmark" -> ("forest fit time against Spark MLlib's RandomForestRegressor, GitHub issue #13 " +
          "(jvm/src/test/scala/org/sparkpolicy/bench/ForestFitBench.scala)"),
        "git_commit" -> git("rev-parse", "HEAD"),
        "git_status" -> git("status", "--porcelain", "--untracked-files=no"),
        "load_average_before" -> loadBefore,
        "load_average_after" -> loadAfter,
        "wall_seconds" -> (System.nanoTime() - started) / 1e9,
        "rows" -> rows, "features" -> features, "arms" -> Arms, "parquet_files" -> files, "data_write_seconds" -> written,
        "input_partitions" -> data.rdd.getNumPartitions,
        "settings" -> obj("num_trees" -> trees, "max_depth" -> maxDepth, "max_bins" -> maxBins, "subsampling_rate" -> rate,
          "feature_subset_strategy" -> strategy, "toolkit_honest" -> honest, "mllib_bootstrap" -> false, "seed" -> seed,
          "min_node_size" -> "1 (both defaults: minNodeSize, minInstancesPerNode)"),
        "data" -> ("FitData: x_j ~ U(0,1), g_a = μ_a + uniform noise (sd 1), hashed from the row id; μ0 = 0, " +
          "μ1 = ±0.5 on x0 > 0.5 ± 0.3 on x1 > 0.7 + 0.4(x4 − 0.5), μ2 = ±0.4 on x2 <= 0.3 ± 0.2 on x3 > 0.5 + 0.4(x5 − 0.5)"),
        "repetitions" -> reps,
        "statistic" -> "median, min and max of the timed repetitions, after one warm-up run per case, cases round-robin",
        "ratios" -> obj(ratios: _*),
        "cases" -> caseJson))
      println(s"wrote $out")
    } finally {
      spark.stop()
      deleteRecursively(tmp)
    }
  }

  private def describe(model: AnyRef): String = model match {
    case f: PolicyForestModel =>
      s"${f.nodeTables.map(_.nodes.size).sum} nodes, feature subset ${f.featureSubsetSize}; " +
        f.phaseMillis.map { case (p, ms) => f"$p ${ms / 1e3}%.2f" }.mkString(", ")
    case p: PipelineModel =>
      val m = p.stages.last.asInstanceOf[RandomForestRegressionModel]
      s"${m.totalNumNodes} nodes, ${m.trees.length} trees"
    case _ => ""
  }

  private def modelJson(model: AnyRef): Seq[(String, Any)] = model match {
    case f: PolicyForestModel =>
      val depths = f.nodeTables.map(t => 31 - Integer.numberOfLeadingZeros(t.nodes.map(_.id).max))
      Seq("params" -> obj(Seq("numTrees", "maxDepth", "maxBins", "subsamplingRate", "featureSubsetStrategy", "honest", "seed",
        "minNodeSize", "thresholdSearch").map(p => p -> f.getOrDefault(f.getParam(p))): _*),
        "feature_subset_size" -> f.featureSubsetSize,
        "total_nodes" -> f.nodeTables.map(_.nodes.size).sum,
        "max_tree_depth" -> depths.max,
        "phase_seconds_last_fit" -> obj(f.phaseMillis.toSeq.map { case (p, ms) => p -> ms / 1e3 }: _*),
        "levels_last_fit" -> f.levelStats.map(l => obj("depth" -> l.depth, "frontier_nodes" -> l.frontierNodes,
          "nodes_split" -> l.nodesSplit, "millis" -> l.millis, "peak_native_bytes_per_task" -> l.peakNativeBytesPerTask)))
    case p: PipelineModel =>
      val m = p.stages.last.asInstanceOf[RandomForestRegressionModel]
      Seq("params" -> obj(Seq[Param[_]](m.numTrees, m.maxDepth, m.maxBins, m.subsamplingRate, m.featureSubsetStrategy, m.bootstrap,
        m.seed, m.minInstancesPerNode, m.maxMemoryInMB, m.cacheNodeIds).map(q => q.name -> m.getOrDefault(q.asInstanceOf[Param[Any]])): _*),
        "total_nodes" -> m.totalNumNodes,
        "max_tree_depth" -> m.trees.map(_.depth).max)
    case _ => Nil
  }
}

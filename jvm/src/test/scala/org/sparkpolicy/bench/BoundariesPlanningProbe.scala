package org.sparkpolicy.bench

import java.nio.file.Files

import org.apache.spark.sql.functions.col
import org.sparkpolicy.bench.BenchSupport._
import org.sparkpolicy.examples.LocalRun
import org.sparkpolicy.synthetic.PlantedPolicyData
import org.sparkpolicy.train.{AipwSettings, Boundaries, InputSpec, TrainingData}

/**
 * Diagnostic behind a finding in docs/benchmarks.md, not part of `make bench`: the time of
 * `Boundaries.compute` on a tiny input (1,000 rows, sample size 100, so its hash-sampling filter is
 * on) as the number of features grows. Executing on 1,000 rows is instant, so the time is query
 * planning. Stops once one feature count takes longer than `--limit` seconds (default 60).
 *
 * Run: java $(JAVA_OPTS) -cp <as make bench> org.sparkpolicy.bench.BoundariesPlanningProbe
 *      [--features 8,10,12,14,16,18] [--constraint-propagation true|false] [--limit 60]
 */
object BoundariesPlanningProbe {
  def main(args: Array[String]): Unit = {
    val opts = LocalRun.options(args)
    val counts = opts.getOrElse("features", "8,10,12,14,16,18").split(',').map(_.trim.toInt)
    val propagation = opts.getOrElse("constraint-propagation", "true")
    val limit = opts.getOrElse("limit", "60").toDouble
    val spark = LocalRun.session("local[2]", "sparkpolicy-boundaries-probe")
      .config("spark.sql.constraintPropagation.enabled", propagation)
      .getOrCreate()
    spark.sparkContext.setLogLevel("WARN")
    val dir = Files.createTempDirectory("sparkpolicy-probe")
    try {
      val maxF = counts.max
      val path = dir.resolve("data").toString
      PlantedPolicyData.generate(spark, 1000, maxF, 1)
        .select(PlantedPolicyData.featureNames(maxF).toSeq.map(col) ++ Seq(col("g0"), col("g1"), col("g2")): _*)
        .write.parquet(path)
      println(s"Boundaries.compute on 1,000 rows, sample size 100, spark.sql.constraintPropagation.enabled=$propagation ($cpuModel)")
      counts.iterator.map { f =>
        val features = PlantedPolicyData.featureNames(f)
        val data = TrainingData.prepare(spark.read.parquet(path),
          InputSpec(features, None, Some(Array("g0", "g1", "g2")), None, None, None, None, None, "error",
            AipwSettings.defaults(256, 1)))
        val s = time(Boundaries.compute(data, 64, 100))
        println(f"  $f%4d features: $s%8.2f s")
        s
      }.takeWhile(_ <= limit).foreach(_ => ())
    } finally {
      spark.stop()
      deleteRecursively(dir)
    }
  }
}

package org.sparkpolicy.contract

import org.apache.spark.sql.functions._
import org.scalatest.funsuite.AnyFunSuite
import org.sparkpolicy.SparkTestSession
import org.sparkpolicy.ml.PolicyTreeLearner
import org.sparkpolicy.train.Boundaries

/** Thousands of features: boundaries are computed per feature on executors and equal a brute-force reference. */
class WideDataSuite extends AnyFunSuite with SparkTestSession {
  private val features = 2000
  private val rows = 1500

  test(s"$features features × $rows rows: exact boundaries per feature, feature blocks, and a fit") {
    val xs = (0 until features).map(j => (pmod(xxhash64(col("id"), lit(j)), lit(97L)).cast("double") / 7.0).as(s"x$j"))
    // A Parquet copy: its plan is a scan, so the only task binaries that grow with the features are the fit's own.
    val dir = java.nio.file.Files.createTempDirectory("sparkpolicy-wide")
    spark.range(0, rows, 1, 4)
      .select(col("id") +: xs :+ (col("id") % 3).cast("double").as("g0") :+ (lit(1.0) - col("id") % 3).as("g1"): _*)
      .write.mode("overwrite").parquet(dir.resolve("data").toString)
    val df = spark.read.parquet(dir.resolve("data").toString)
    val (model, warnings) = WideDataSuite.schedulerWarnings {
      new PolicyTreeLearner().setFeatureCols(Array.tabulate(features)(j => s"x$j")).setRewardCols(Array("g0", "g1"))
        .setMaxBins(32).setMaxDepth(2).setMaxMemoryMB(1).fit(df)
    }
    assert(model.trainingSummary.levels.head.featureBlocks > 1, "a 1 MiB budget must split 2000 features into blocks")
    // What grows with the features (edges, level jobs) is broadcast, not captured in the stages' closures:
    // Spark warns of any task binary over 1000 KiB (the level jobs' were 2.1 MiB here when captured).
    assert(!warnings.exists(_.contains("large task binary")), warnings.mkString("\n"))
    // Brute force for a few features: sorted values with counts, then the same rule. Exact thresholds keep
    // ⌊2^20 / 2000⌋ = 524 fine bins per feature: all 97 distinct values; binned keeps 32 quantile bins.
    val binned = new PolicyTreeLearner().setFeatureCols(Array.tabulate(features)(j => s"x$j")).setRewardCols(Array("g0", "g1"))
      .setMaxBins(32).setMaxDepth(1).setMaxMemoryMB(1).setThresholdSearch("binned").fit(df)
    Seq(0, 999, features - 1).foreach { j =>
      val counts = df.groupBy(s"x$j").count().collect().map(r => r.getDouble(0) -> r.getLong(1)).sortBy(_._1)
      assert(model.splitBoundaries(j).toSeq == Boundaries.edgesFromCounts(counts, 524).toSeq, s"feature x$j")
      assert(model.splitBoundaries(j).length == 96, "every distinct value but the largest")
      assert(binned.splitBoundaries(j).toSeq == Boundaries.edgesFromCounts(counts, 32).toSeq, s"feature x$j, binned")
      assert(binned.splitBoundaries(j).length == 31, "97 distinct values in 32 bins")
    }
    org.sparkpolicy.bench.BenchSupport.deleteRecursively(dir)
  }

  test("a sampled fit on 40 features plans quickly (no optimizer blow-up on the sampling filter)") {
    val xs = (0 until 40).map(j => (pmod(xxhash64(col("id"), lit(j)), lit(1000L)).cast("double") / 10.0).as(s"x$j"))
    val df = spark.range(0, 6000, 1, 4).select(col("id") +: xs :+ (col("id") % 2).cast("double").as("g0") :+
      (lit(1.0) - col("id") % 2).as("g1"): _*)
    val started = System.nanoTime()
    val model = new PolicyTreeLearner().setFeatureCols(Array.tabulate(40)(j => s"x$j")).setRewardCols(Array("g0", "g1"))
      .setBoundarySampleSize(2000).setMaxDepth(2).fit(df) // 6,000 rows > sample size: the sampled path
    assert(model.splitBoundaries.forall(_.nonEmpty))
    // Same sample in any layout, hence the same boundaries.
    val again = new PolicyTreeLearner().setFeatureCols(Array.tabulate(40)(j => s"x$j")).setRewardCols(Array("g0", "g1"))
      .setBoundarySampleSize(2000).setMaxDepth(2).fit(df.repartition(7))
    assert(again.signatures.get("boundaries") == model.signatures.get("boundaries"))
    info(f"two sampled 40-feature fits in ${(System.nanoTime() - started) / 1e9}%.1f s")
  }
}

object WideDataSuite {
  /** `body`'s result and the warnings Spark's DAGScheduler logged while it ran. */
  def schedulerWarnings[T](body: => T): (T, Seq[String]) = {
    import org.apache.logging.log4j.{Level, LogManager}
    import org.apache.logging.log4j.core.{LogEvent, Logger}
    import org.apache.logging.log4j.core.appender.AbstractAppender
    import org.apache.logging.log4j.core.config.Property
    val logger = LogManager.getLogger("org.apache.spark.scheduler.DAGScheduler").asInstanceOf[Logger]
    val seen = new java.util.concurrent.ConcurrentLinkedQueue[String]()
    val appender = new AbstractAppender("sparkpolicy-scheduler-warnings", null, null, true, Property.EMPTY_ARRAY) {
      override def append(e: LogEvent): Unit = if (e.getLevel.isMoreSpecificThan(Level.WARN)) seen.add(e.getMessage.getFormattedMessage)
    }
    appender.start()
    val level = logger.getLevel
    logger.addAppender(appender)
    logger.setLevel(Level.WARN)
    try {
      val result = body
      import scala.jdk.CollectionConverters._
      (result, seen.asScala.toSeq)
    } finally {
      logger.removeAppender(appender)
      logger.setLevel(level)
      appender.stop()
    }
  }
}

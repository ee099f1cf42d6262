package org.sparkpolicy.bench

import java.nio.file.Files
import java.util.concurrent.atomic.AtomicLong

import scala.collection.mutable

import org.apache.spark.ml.param.ParamMap
import org.apache.spark.scheduler.{SparkListener, SparkListenerJobEnd, SparkListenerJobStart, SparkListenerStageCompleted}
import org.apache.spark.sql.{DataFrame, SparkSession}
import org.apache.spark.sql.functions.col
import org.apache.spark.sql.sparkpolicy.InternalFrames
import org.sparkpolicy.bench.BenchSupport._
import org.sparkpolicy.examples.LocalRun
import org.sparkpolicy.ml.{PolicyTreeLearner, PolicyTreeModel}
import org.sparkpolicy.synthetic.PlantedPolicyData

/**
 * Diagnostic behind issue #12's figures, not part of `make bench`: how often a fit reads its input and
 * where its time goes. One Parquet copy of PlantedPolicyData (`--rows` × `--features`, rewards r_a = g_a +
 * 3·x_{3+a} as in SparkBench, so the tree reaches depth 4) is read through a counting source (one count per
 * partition computed), and a listener records every job the fit runs: its call site, its stages and their
 * input. Given-reward, IPW and AIPW fits of depth 4 each run once to warm up, then `--reps` times; the
 * last run's jobs are listed, with `trainingSummary.phaseMillis`.
 *
 * Run: java $(JAVA_OPTS) -cp jvm/target/test-classes:<as make bench> org.sparkpolicy.bench.FitPassesProbe
 *      [--rows 1000000] [--features 10] [--partitions 8] [--reps 3] [--fits given,ipw,aipw]
 */
object FitPassesProbe {
  /** Partitions of the source computed so far (local mode: executors share this JVM). */
  val sourcePartitionReads = new AtomicLong

  /** `df`'s rows as a source that counts each partition it computes. */
  def countingSource(df: DataFrame): DataFrame =
    InternalFrames.fromInternalRows(df.sparkSession, df.queryExecution.toRdd.mapPartitions { it =>
      sourcePartitionReads.incrementAndGet()
      it
    }, df.schema)

  final case class StageRecord(id: Int, tasks: Int, recordsRead: Long, bytesRead: Long, shuffleReadBytes: Long, millis: Long)
  final case class JobRecord(id: Int, callSite: String, description: String, stageIds: Seq[Int], start: Long, var end: Long = -1L)

  /** Every job and completed stage of the session, in order. */
  final class PassListener extends SparkListener {
    val jobs = mutable.ArrayBuffer.empty[JobRecord]
    val stages = mutable.Map.empty[Int, StageRecord]

    override def onJobStart(e: SparkListenerJobStart): Unit = synchronized {
      val p = Option(e.properties)
      // A job's call site is its result stage's name, e.g. "collect at LevelSearch.scala:48".
      val site = e.stageInfos.sortBy(_.stageId).lastOption.map(_.name).orNull
      jobs += JobRecord(e.jobId, site, p.flatMap(x => Option(x.getProperty("spark.job.description"))).getOrElse(""), e.stageIds, e.time)
    }

    override def onJobEnd(e: SparkListenerJobEnd): Unit = synchronized { jobs.find(_.id == e.jobId).foreach(_.end = e.time) }

    override def onStageCompleted(e: SparkListenerStageCompleted): Unit = synchronized {
      val i = e.stageInfo
      val m = i.taskMetrics
      stages(i.stageId) = StageRecord(i.stageId, i.numTasks, m.inputMetrics.recordsRead, m.inputMetrics.bytesRead,
        m.shuffleReadMetrics.totalBytesRead, i.completionTime.getOrElse(0L) - i.submissionTime.getOrElse(0L))
    }

    def clear(): Unit = synchronized { jobs.clear(); stages.clear() }

    /** Waits for the listener bus to deliver the last job's end (events arrive asynchronously). */
    def settle(): Unit = {
      val deadline = System.currentTimeMillis() + 10000
      while (synchronized(jobs.exists(_.end < 0)) && System.currentTimeMillis() < deadline) Thread.sleep(20)
      Thread.sleep(200)
    }
  }

  def main(args: Array[String]): Unit = {
    val opts = LocalRun.options(args)
    val rows = opts.getOrElse("rows", "1000000").toLong
    val nFeatures = opts.getOrElse("features", "10").toInt
    val partitions = opts.getOrElse("partitions", "8").toInt
    val reps = opts.getOrElse("reps", "3").toInt
    val fits = opts.getOrElse("fits", "given,ipw,aipw").split(',').map(_.trim).toSeq
    val spark = LocalRun.session("local[2]", "sparkpolicy-fit-passes").config("spark.sql.shuffle.partitions", "4")
      .config("spark.sql.files.maxPartitionBytes", "16m").getOrCreate() // one read task per written file, as SparkBench
    spark.sparkContext.setLogLevel("WARN")
    val listener = new PassListener
    spark.sparkContext.addSparkListener(listener)
    val dir = Files.createTempDirectory("sparkpolicy-fit-passes")
    try {
      val features = PlantedPolicyData.featureNames(nFeatures)
      val path = dir.resolve("data").toString
      PlantedPolicyData.generate(spark, rows, nFeatures, partitions)
        .select(features.toSeq.map(col) ++ (0 until 3).map(a => (col(s"g$a") + col(s"x${3 + a}") * 3.0).as(s"r$a")) ++
          Seq(col("treatment"), col("outcome")): _*)
        .write.parquet(path)
      val source = countingSource(spark.read.parquet(path))
      val nParts = source.rdd.getNumPartitions
      println(s"$rows rows × $nFeatures features, $nParts source partitions, local[2], $cpuModel, load ${loadAverage}")
      val base = new PolicyTreeLearner().setFeatureCols(features).setMaxDepth(4)
      val learners: Map[String, () => PolicyTreeLearner] = Map(
        "given" -> (() => base.copy(ParamMap.empty).setRewardCols(Array("r0", "r1", "r2"))),
        "ipw" -> (() => base.copy(ParamMap.empty).setTreatmentCol("treatment").setOutcomeCol("outcome")
          .setRewardType("ipw")),
        "aipw" -> (() => base.copy(ParamMap.empty).setTreatmentCol("treatment").setOutcomeCol("outcome")))
      fits.foreach { kind =>
        val learner = learners(kind)()
        learner.fit(source) // warm-up
        val runs = (1 to reps).map { _ =>
          listener.settle()
          listener.clear()
          sourcePartitionReads.set(0)
          val t0 = System.nanoTime()
          val m = learner.fit(source)
          val seconds = (System.nanoTime() - t0) / 1e9
          listener.settle()
          (seconds, m, listener.synchronized(listener.jobs.toVector), listener.synchronized(listener.stages.toMap), sourcePartitionReads.get())
        }
        val (_, model, jobs, stages, reads) = runs.last
        report(kind, model, jobs, stages, reads, nParts, runs.map(_._1))
      }
    } finally {
      spark.stop()
      deleteRecursively(dir)
    }
  }

  private def report(kind: String, model: PolicyTreeModel, jobs: Vector[JobRecord], stages: Map[Int, StageRecord], reads: Long,
      nParts: Int, seconds: Seq[Double]): Unit = {
    println(s"== $kind: ${model.numNodes} nodes, depth ${model.depth}; fit seconds ${seconds.map(s => f"$s%.2f").mkString(", ")} " +
      f"(median ${Timing(seconds.toVector).median}%.2f)")
    println(f"  source partition reads $reads (= ${reads.toDouble / nParts}%.1f scans of $nParts partitions), ${jobs.size} jobs")
    println(f"  ${"job"}%4s ${"ms"}%6s ${"stages"}%6s ${"tasks"}%6s ${"in records"}%11s ${"in MB"}%8s ${"shuffle MB"}%10s  call site / description")
    jobs.foreach { j =>
      val ran = j.stageIds.flatMap(stages.get)
      println(f"  ${j.id}%4d ${j.end - j.start}%6d ${ran.size}%6d ${ran.map(_.tasks).sum}%6d ${ran.map(_.recordsRead).sum}%11d " +
        f"${ran.map(_.bytesRead).sum / 1e6}%8.1f ${ran.map(_.shuffleReadBytes).sum / 1e6}%10.1f  ${j.callSite} / ${j.description}")
    }
    // Where the time went, by the file that started each job (the fit's own files; Spark's are skipped by the call site).
    val byFile = jobs.groupBy(j => Option(j.callSite).map(_.split(" at ").last.takeWhile(_ != ':')).getOrElse("?"))
      .map { case (f, js) => f -> js.map(j => j.end - j.start).sum }.toSeq.sortBy(-_._2)
    println("  job ms by call-site file: " + byFile.map { case (f, ms) => s"$f $ms" }.mkString(", "))
    println("  trainingSummary.phaseMillis: " + model.trainingSummary.phaseMillis.map { case (p, ms) => s"$p $ms" }.mkString(", "))
  }
}

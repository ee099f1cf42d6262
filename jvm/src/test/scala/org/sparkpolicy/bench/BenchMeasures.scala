package org.sparkpolicy.bench

import java.lang.management.{ManagementFactory, MemoryType}
import java.nio.file.{Files, Path}
import java.util.concurrent.ConcurrentHashMap
import java.util.concurrent.atomic.AtomicLong
import javax.management.{Notification, NotificationEmitter, NotificationListener}
import javax.management.openmbean.CompositeData

import scala.jdk.CollectionConverters._

import com.sun.management.GarbageCollectionNotificationInfo
import org.apache.spark.scheduler.{SparkListener, SparkListenerStageSubmitted, SparkListenerTaskEnd}
import org.apache.spark.sql.SparkSessionExtensions
import org.apache.spark.sql.catalyst.rules.Rule
import org.apache.spark.sql.execution.{ColumnarRule, FileSourceScanExec, SparkPlan}
import org.sparkpolicy.bench.BenchSupport._

/** The benches' measurements: task metrics per case, Parquet rows read, and the JVM's memory while a fit runs. */
object BenchMeasures {
  /** The local property naming the case (or fit) whose jobs run; CaseMetrics keys task metrics by it. */
  val CaseProperty = "sparkpolicy.bench.case"

  /** Task metrics per fit, from the tasks of stages submitted while `CaseProperty` named it. */
  final class CaseMetrics extends SparkListener {
    private val stageCase = new ConcurrentHashMap[Int, String]()
    private val sums = new ConcurrentHashMap[(String, String), AtomicLong]()
    private def add(c: String, metric: String, v: Long): Unit = sums.computeIfAbsent((c, metric), _ => new AtomicLong()).addAndGet(v)
    override def onStageSubmitted(e: SparkListenerStageSubmitted): Unit =
      Option(e.properties).flatMap(p => Option(p.getProperty(CaseProperty))).foreach(stageCase.put(e.stageInfo.stageId, _))
    override def onTaskEnd(e: SparkListenerTaskEnd): Unit =
      for (c <- Option(stageCase.get(e.stageId)); m <- Option(e.taskMetrics)) {
        add(c, "tasks", 1)
        add(c, "recordsRead", m.inputMetrics.recordsRead)
        add(c, "bytesRead", m.inputMetrics.bytesRead)
        add(c, "shuffleWrite", m.shuffleWriteMetrics.bytesWritten)
        add(c, "memorySpilled", m.memoryBytesSpilled)
        add(c, "diskSpilled", m.diskBytesSpilled)
        add(c, "peakExecutionSum", m.peakExecutionMemory)
        add(c, "parquetRows", e.taskInfo.accumulables.filter(a => ScanMetrics.ids.contains(a.id)).flatMap(_.update).collect {
          case v: Long => v
          case v: java.lang.Long => v.longValue
        }.sum)
        sums.computeIfAbsent((c, "peakExecutionMax"), _ => new AtomicLong()).accumulateAndGet(m.peakExecutionMemory, math.max(_, _))
      }
    def of(c: String, metric: String): Long = Option(sums.get((c, metric))).map(_.get).getOrElse(0L)
  }

  /** Accumulator ids of the "number of output rows" metric of every file scan planned in this JVM (FitBenchExtensions). */
  object ScanMetrics {
    val ids: java.util.Set[Long] = ConcurrentHashMap.newKeySet[Long]()
  }

  /** What MemoryWatch saw while it ran. */
  final case class MemoryPeaks(heapUsed: Long, heapCommitted: Long, heapAfterGc: Long, gcs: Long, rss: Long, hwm: Option[Long]) {
    def max(o: MemoryPeaks): MemoryPeaks = MemoryPeaks(heapUsed max o.heapUsed, heapCommitted max o.heapCommitted,
      heapAfterGc max o.heapAfterGc, gcs + o.gcs, rss max o.rss, for (a <- hwm; b <- o.hwm) yield a max b)
    def json: java.util.Map[String, Any] = obj(
      "max_heap_used_sampled_bytes" -> heapUsed,
      "max_heap_committed_bytes" -> heapCommitted,
      "max_heap_after_gc_bytes" -> heapAfterGc,
      "gcs" -> gcs,
      "max_rss_sampled_bytes" -> rss,
      "peak_rss_vmhwm_bytes" -> hwm)
  }

  /** /proc/self/status's field (kB) in bytes, or 0. */
  private def procStatus(field: String): Long =
    try Files.readAllLines(Path.of("/proc/self/status")).asScala.collectFirst {
      case l if l.startsWith(field + ":") => l.split("\\s+")(1).toLong * 1024
    }.getOrElse(0L)
    catch { case _: Exception => 0L }

  /**
   * Samples the JVM's used and committed heap and the process's RSS every `periodMs` in a daemon thread, and the
   * heap left after every GC (GC notifications); resets the peak RSS (VmHWM) when /proc/self/clear_refs allows it.
   */
  final class MemoryWatch(periodMs: Long = 200) {
    private val heapPools = ManagementFactory.getMemoryPoolMXBeans.asScala.filter(_.getType == MemoryType.HEAP).map(_.getName).toSet
    private val heapUsed, heapCommitted, heapAfterGc, rss, gcs = new AtomicLong()
    @volatile private var running = true
    private val hwmReset =
      try { Files.writeString(Path.of("/proc/self/clear_refs"), "5"); true }
      catch { case _: Exception => false }
    private val gcListener = new NotificationListener {
      override def handleNotification(n: Notification, handback: Any): Unit =
        if (n.getType == GarbageCollectionNotificationInfo.GARBAGE_COLLECTION_NOTIFICATION) {
          val info = GarbageCollectionNotificationInfo.from(n.getUserData.asInstanceOf[CompositeData])
          val after = info.getGcInfo.getMemoryUsageAfterGc.asScala.collect { case (pool, u) if heapPools(pool) => u.getUsed }.sum
          heapAfterGc.accumulateAndGet(after, math.max(_, _))
          gcs.incrementAndGet()
        }
    }
    private val emitters = ManagementFactory.getGarbageCollectorMXBeans.asScala.collect { case e: NotificationEmitter => e }
    emitters.foreach(_.addNotificationListener(gcListener, null, null))
    private def sample(): Unit = {
      val rt = Runtime.getRuntime
      heapUsed.accumulateAndGet(rt.totalMemory() - rt.freeMemory(), math.max(_, _))
      heapCommitted.accumulateAndGet(rt.totalMemory(), math.max(_, _))
      rss.accumulateAndGet(procStatus("VmRSS"), math.max(_, _))
    }
    private val thread = new Thread(() => while (running) { sample(); Thread.sleep(periodMs) }, "fitbench-memory-watch")
    thread.setDaemon(true)
    thread.start()

    def stop(): MemoryPeaks = {
      running = false
      thread.join()
      sample()
      emitters.foreach(e => try e.removeNotificationListener(gcListener) catch { case _: Exception => () })
      MemoryPeaks(heapUsed.get, heapCommitted.get, heapAfterGc.get, gcs.get, rss.get,
        if (hwmReset) Some(procStatus("VmHWM")) else None)
    }
  }
}

/**
 * Registered by FitBench as `spark.sql.extensions`: a columnar rule that sees every physical plan Spark prepares (also
 * those behind `Dataset.rdd`, `queryExecution.toRdd` and cached relations, which run no SQL execution) and records the
 * accumulator id of each file scan's "number of output rows" metric, so the listener can count Parquet rows per fit.
 */
class FitBenchExtensions extends (SparkSessionExtensions => Unit) {
  override def apply(extensions: SparkSessionExtensions): Unit = extensions.injectColumnar(_ => new ColumnarRule {
    override def postColumnarTransitions: Rule[SparkPlan] = new Rule[SparkPlan] {
      override def apply(plan: SparkPlan): SparkPlan = {
        plan.foreach {
          case scan: FileSourceScanExec => scan.metrics.get("numOutputRows").foreach(m => BenchMeasures.ScanMetrics.ids.add(m.id))
          case _ => ()
        }
        plan
      }
    }
  })
}

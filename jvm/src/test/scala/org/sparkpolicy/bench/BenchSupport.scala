package org.sparkpolicy.bench

import java.nio.file.{Files, Path}
import java.time.Instant
import java.util.{LinkedHashMap => JMap}

import scala.jdk.CollectionConverters._

import com.fasterxml.jackson.databind.{ObjectMapper, SerializationFeature}
import org.sparkpolicy.ml.model.NodeTable

/** Timing, environment and output helpers for the Spark benchmark harness (not shipped in the jar). */
object BenchSupport {

  /** Wall-clock seconds of each timed repetition of one case. */
  final case class Timing(seconds: Vector[Double]) {
    def median: Double = {
      val s = seconds.sorted
      if (s.size % 2 == 1) s(s.size / 2) else (s(s.size / 2 - 1) + s(s.size / 2)) / 2
    }
    def min: Double = seconds.min
    def max: Double = seconds.max
  }

  def time(body: => Unit): Double = {
    val t0 = System.nanoTime()
    body
    (System.nanoTime() - t0) / 1e9
  }

  /**
   * Warms every case up once, then runs `reps` rounds of all cases in turn (round-robin rather
   * than case by case), so a burst of background load spreads over every case instead of
   * skewing one of them. Returns each case's timings, in the order given.
   */
  def measureRoundRobin(cases: Seq[(String, () => Unit)], reps: Int): Vector[(String, Timing)] = {
    cases.foreach { case (name, run) =>
      val s = time(run())
      println(f"  warm-up  $name%-28s $s%8.2f s")
    }
    val times = Array.fill(cases.size)(Vector.empty[Double])
    (1 to reps).foreach { rep =>
      cases.zipWithIndex.foreach { case ((name, run), i) =>
        val s = time(run())
        times(i) :+= s
        println(f"  rep $rep    $name%-28s $s%8.2f s   (load ${loadAverage.split(' ').head})")
      }
    }
    cases.map(_._1).zip(times.map(Timing(_))).toVector
  }

  /**
   * The tree's action index as one Spark SQL expression: nested CASE WHENs, one per split, with
   * leaves as the arm index. Same semantics as the native scorer: a row goes left when
   * `x <= threshold`; null or NaN goes to the split's learned side. Spark orders NaN above every
   * number, so `x <= t` is already false for NaN (and null) and only missing-left splits need a test.
   * Thresholds are written as exact double literals (`...D`), never decimals.
   */
  def caseWhenSql(tree: NodeTable, featureCols: Seq[String]): String = {
    def node(id: Int): String = {
      val n = tree.byId(id)
      if (n.isLeaf) n.arm.toString
      else {
        val x = s"`${featureCols(n.feature)}`"
        val le = s"$x <= ${java.lang.Double.toString(n.threshold)}D"
        val cond = if (n.missingLeft) s"($le OR $x IS NULL OR isnan($x))" else le
        s"CASE WHEN $cond THEN ${node(2 * id)} ELSE ${node(2 * id + 1)} END"
      }
    }
    node(1)
  }

  /** A field of the first processor in /proc/cpuinfo, e.g. "model name" or "cpu family". */
  def cpuinfo(field: String): String = {
    val lines = Files.readAllLines(Path.of("/proc/cpuinfo")).asScala
    lines.map(_.split(":", 2)).collectFirst { case Array(k, v) if k.trim == field => v.trim }.getOrElse("unknown")
  }

  def cpuModel: String = cpuinfo("model name")

  /** Virtual machines often show only a generic model name; family/model/MHz narrow it down. */
  def cpuFamilyModelMhz: String = s"${cpuinfo("cpu family")}/${cpuinfo("model")}/${cpuinfo("cpu MHz")}"

  /** The three load averages and running/total threads, from /proc/loadavg. */
  def loadAverage: String = Files.readString(Path.of("/proc/loadavg")).trim

  def now: String = Instant.now().toString

  /** An insertion-ordered JSON object from key-value pairs (Scala collections become Java ones). */
  /** The date, machine, Spark and JVM facts every results file records, in one order. */
  def machineFacts(spark: org.apache.spark.sql.SparkSession): Seq[(String, Any)] = Seq(
    "date" -> now,
    "cpu_model" -> cpuModel,
    "cpu_family_model_mhz" -> cpuFamilyModelMhz,
    "logical_cpus" -> Runtime.getRuntime.availableProcessors(),
    "spark_master" -> spark.sparkContext.master,
    "spark_version" -> spark.version,
    "java_version" -> System.getProperty("java.version"),
    "driver_max_heap_mib" -> Runtime.getRuntime.maxMemory() / (1024 * 1024))

  /** A results object: its first field (the benchmark's name), then [[machineFacts]], then the rest. */
  def results(spark: org.apache.spark.sql.SparkSession)(fields: (String, Any)*): JMap[String, Any] =
    obj(fields.take(1) ++ machineFacts(spark) ++ fields.drop(1): _*)

  def obj(fields: (String, Any)*): JMap[String, Any] = {
    val m = new JMap[String, Any]()
    fields.foreach { case (k, v) => m.put(k, toJava(v)) }
    m
  }

  private def toJava(v: Any): Any = v match {
    case s: Seq[_] => s.map(toJava).asJava
    case o: Option[_] => o.map(toJava).orNull
    case x => x
  }

  def writeJson(path: Path, value: Any): Unit = {
    Files.createDirectories(path.getParent)
    val mapper = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT)
    Files.writeString(path, mapper.writeValueAsString(value) + "\n")
  }

  def sizeOnDisk(dir: Path): Long = {
    val paths = Files.walk(dir)
    try paths.filter(Files.isRegularFile(_)).mapToLong(Files.size(_)).sum()
    finally paths.close()
  }

  def deleteRecursively(p: Path): Unit = if (Files.exists(p)) {
    val paths = Files.walk(p)
    try paths.sorted(java.util.Comparator.reverseOrder[Path]()).forEach(f => Files.delete(f))
    finally paths.close()
  }

  /** A git command's trimmed output in the working directory, or "unknown". */
  def git(args: String*): String =
    try {
      val p = new ProcessBuilder(("git" +: args): _*).redirectErrorStream(true).start()
      val out = new String(p.getInputStream.readAllBytes()).trim
      if (p.waitFor() == 0) out else "unknown"
    } catch { case _: java.io.IOException => "unknown" }
}

package org.sparkpolicy.bench

import java.nio.file.Path

import org.apache.spark.sql.SparkSession
import org.apache.spark.sql.catalyst.InternalRow
import org.apache.spark.sql.catalyst.expressions.SpecificInternalRow
import org.apache.spark.sql.sparkpolicy.InternalFrames
import org.apache.spark.sql.types.{DoubleType, IntegerType, StructField, StructType}

/** FitBench's data (see its doc): every value a splitmix64 hash of (row id, column), written once to Parquet. */
object FitData {
  private def mix(z0: Long): Long = {
    var z = z0
    z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L
    z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL
    z ^ (z >>> 31)
  }

  /** Uniform [0, 1) from a hash of (row id, salt). */
  def uniform(id: Long, salt: Long): Double =
    (mix(id * 0x9e3779b97f4a7c15L + (salt + 1) * 0xd1b54a32d192ed03L) >>> 11).toDouble / (1L << 53).toDouble

  /** Zero-mean uniform noise with standard deviation 1. */
  private def noise(id: Long, salt: Long): Double = (uniform(id, salt) - 0.5) * math.sqrt(12.0)

  private def sgn(b: Boolean): Double = if (b) 1.0 else -1.0

  /** True mean reward of each arm for a row's features (only x0..x5 matter). */
  def mu(arm: Int, x: Int => Double): Double = arm match {
    case 0 => 0.0
    case 1 => 0.5 * sgn(x(0) > 0.5) + 0.3 * sgn(x(1) > 0.7) + 0.4 * (x(4) - 0.5)
    case 2 => 0.4 * sgn(x(2) <= 0.3) + 0.2 * sgn(x(3) > 0.5) + 0.4 * (x(5) - 0.5)
  }

  val Arms = 3
  def featureNames(features: Int): Array[String] = Array.tabulate(features)(j => s"x$j")
  def rewardNames: Array[String] = Array.tabulate(Arms)(a => s"g$a")

  def schema(features: Int): StructType = StructType(
    featureNames(features).map(StructField(_, DoubleType, nullable = false)) ++
      rewardNames.map(StructField(_, DoubleType, nullable = false)) ++
      Seq(StructField("w", IntegerType, nullable = false), StructField("y", DoubleType, nullable = false)))

  /**
   * x0..x{F-1}, g0..g2, w, y for `rows` row ids, computed on executors as Catalyst rows (no per-column expression,
   * so a 10,000-column frame costs Catalyst nothing to analyse) and written once as `files` Parquet files.
   */
  def write(spark: SparkSession, dir: Path, rows: Long, features: Int, files: Int): Unit = {
    require(features >= 6, "the rewards depend on x0..x5")
    val st = schema(features)
    val types = st.fields.map(_.dataType).toSeq
    val parts = spark.sparkContext.parallelize(0 until files, files).mapPartitions { it =>
      it.flatMap { p =>
        val from = rows * p / files
        val until = rows * (p + 1) / files
        val row = new SpecificInternalRow(types)
        val x = new Array[Double](6)
        (from until until).iterator.map { id =>
          var j = 0
          while (j < features) {
            val v = uniform(id, j)
            if (j < 6) x(j) = v
            row.setDouble(j, v)
            j += 1
          }
          val mus = Array.tabulate(Arms)(a => mu(a, x(_)))
          (0 until Arms).foreach(a => row.setDouble(features + a, mus(a) + noise(id, 100000L + a)))
          val w = math.min(Arms - 1, (uniform(id, 200000L) * Arms).toInt)
          row.setInt(features + Arms, w)
          row.setDouble(features + Arms + 1, mus(w) + noise(id, 200001L))
          row: InternalRow
        }
      }
    }
    // Uniform doubles never repeat, so Parquet's dictionary encoding only costs: each column page builds a
    // hash map and falls back to plain. At 10,000 columns that took the two writing tasks over 7 minutes.
    // Off for wide data only, so the narrower scenarios' files stay as every earlier run wrote them.
    InternalFrames.fromInternalRows(spark, parts, st).write.option("parquet.enable.dictionary", features <= 1000)
      .parquet(dir.toString)
  }
}

package org.sparkpolicy.synthetic

import org.apache.spark.sql.{Column, DataFrame, SparkSession}
import org.apache.spark.sql.functions._

/**
 * Deterministic synthetic data with a planted depth-2 policy over 3 arms, generated on executors
 * from row ids (every value is a hash of the id, so any partitioning gives the same rows).
 *
 * Features x0..x{F-1} are uniform on [0, 1). The best arm is
 *   x0 <= 0.5: arm 1 if x1 <= 0.3 else arm 0;   x0 > 0.5: arm 2 if x2 <= 0.6 else arm 0.
 * True mean rewards: μ0 = 1; μ1 = 2 in (x0<=.5, x1<=.3), 0 elsewhere left, −2 right;
 * μ2 = 2 in (x0>.5, x2<=.6), 0 elsewhere right, −2 left. The planted policy's value is 1.45.
 *
 * Columns: id, x*, treatment ("arm0".."arm2", uniform), propensity (1/3), outcome (μ_W + noise),
 * g0..g2 (μ_a + noise, given rewards), mu0..mu2 (noise-free), planted_arm, holdout (20% by id hash).
 */
object PlantedPolicyData {
  val Arms: Seq[String] = Seq("arm0", "arm1", "arm2")
  val PlantedValue = 1.45

  /** Uniform [0, 1) from a hash of (id, salt). */
  private def uniform(salt: Long): Column =
    pmod(xxhash64(col("id"), lit(salt)), lit(1L << 53)).cast("double") / lit((1L << 53).toDouble)

  /** Zero-mean noise with standard deviation `sd` (uniform, so bounded and cheap). */
  private def noise(salt: Long, sd: Double): Column = (uniform(salt) - lit(0.5)) * lit(sd * math.sqrt(12.0))

  def plantedArm(x0: Double, x1: Double, x2: Double): Int =
    if (x0 <= 0.5) { if (x1 <= 0.3) 1 else 0 } else { if (x2 <= 0.6) 2 else 0 }

  def mu(arm: Int, x0: Double, x1: Double, x2: Double): Double = arm match {
    case 0 => 1.0
    case 1 => if (x0 <= 0.5) { if (x1 <= 0.3) 2.0 else 0.0 } else -2.0
    case 2 => if (x0 > 0.5) { if (x2 <= 0.6) 2.0 else 0.0 } else -2.0
  }

  def generate(spark: SparkSession, rows: Long, numFeatures: Int = 10, numPartitions: Int = 8, noiseSd: Double = 1.0, seed: Long = 7L): DataFrame = {
    require(numFeatures >= 3, "the planted policy uses x0, x1 and x2")
    val base = spark.range(0L, rows, 1L, numPartitions)
    val xs = (0 until numFeatures).map(j => uniform(seed * 1000 + j).as(s"x$j"))
    val withX = base.select(col("id") +: xs: _*)
    val (x0, x1, x2) = (col("x0"), col("x1"), col("x2"))
    val left = x0 <= 0.5
    val mu0 = lit(1.0)
    val mu1 = when(left, when(x1 <= 0.3, 2.0).otherwise(0.0)).otherwise(-2.0)
    val mu2 = when(!left, when(x2 <= 0.6, 2.0).otherwise(0.0)).otherwise(-2.0)
    val w = floor(uniform(seed * 1000 + 500) * 3).cast("int")
    withX
      .withColumn("mu0", mu0).withColumn("mu1", mu1).withColumn("mu2", mu2)
      .withColumn("w", w)
      .withColumn("treatment", concat(lit("arm"), col("w").cast("string")))
      .withColumn("propensity", lit(1.0 / 3))
      .withColumn("outcome", when(col("w") === 0, col("mu0")).when(col("w") === 1, col("mu1")).otherwise(col("mu2")) +
        noise(seed * 1000 + 600, noiseSd))
      .withColumn("g0", col("mu0") + noise(seed * 1000 + 700, noiseSd))
      .withColumn("g1", col("mu1") + noise(seed * 1000 + 701, noiseSd))
      .withColumn("g2", col("mu2") + noise(seed * 1000 + 702, noiseSd))
      .withColumn("planted_arm", when(left, when(x1 <= 0.3, 1).otherwise(0)).otherwise(when(x2 <= 0.6, 2).otherwise(0)))
      .withColumn("holdout", uniform(seed * 1000 + 900) < 0.2)
      .drop("w")
  }

  def featureNames(numFeatures: Int = 10): Array[String] = Array.tabulate(numFeatures)(j => s"x$j")

  /** Mean true reward of the arms in `actionCol` (an index column), over `df`: the policy's value. */
  def trueValue(df: DataFrame, actionCol: String): Double =
    df.select(avg(when(col(actionCol) === 0, col("mu0")).when(col(actionCol) === 1, col("mu1")).otherwise(col("mu2"))))
      .head().getDouble(0)
}

package org.sparkpolicy

import java.nio.file.{Files, Paths}

import org.apache.spark.sql.{DataFrame, SparkSession}
import org.apache.spark.sql.functions._
import org.sparkpolicy.synthetic.PlantedPolicyData

/** Shared test datasets, read from the repository's own fixtures so a plain clone runs them. */
object TestData {
  val HillstromFeatures: Array[String] = Array("recency", "history", "mens", "womens", "newbie")

  /** A file under tests/fixtures, from the Maven module (tests) or the repository root (experiments). */
  def fixture(parts: String*): java.nio.file.Path = {
    val candidates = Seq(Paths.get("..", "tests" +: "fixtures" +: parts: _*), Paths.get("tests", "fixtures" +: parts: _*))
    candidates.find(Files.exists(_)).getOrElse(throw new AssertionError(s"missing fixture ${candidates.head}"))
  }

  def hillstrom(spark: SparkSession): DataFrame = {
    val path = fixture("hillstrom", "hillstrom.csv.gz")
    spark.read.option("header", "true").option("inferSchema", "true").csv(path.toString)
  }

  /** Planted-policy data with missing values in x5 (null) and x4 (NaN), so missing-value routing is exercised too. */
  def syntheticWithMissing(spark: SparkSession, rows: Long, numFeatures: Int = 6): DataFrame =
    PlantedPolicyData.generate(spark, rows, numFeatures, numPartitions = 3)
      .withColumn("x5", when(col("x3") < 0.1, lit(null).cast("double")).otherwise(col("x5")))
      .withColumn("x4", when(col("x3") > 0.95, lit(Double.NaN)).otherwise(col("x4")))
}

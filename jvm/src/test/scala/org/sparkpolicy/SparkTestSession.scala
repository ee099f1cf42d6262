package org.sparkpolicy

import org.apache.spark.sql.SparkSession
import org.scalatest.{BeforeAndAfterAll, Suite}
import org.sparkpolicy.examples.LocalRun

/** A local Spark session bound to loopback with the UI off, shared by a suite. */
trait SparkTestSession extends BeforeAndAfterAll { self: Suite =>
  protected def master: String = "local[2]"

  @transient protected var spark: SparkSession = _

  override def beforeAll(): Unit = {
    super.beforeAll()
    spark = SparkTestSession.builder(master).getOrCreate()
  }

  override def afterAll(): Unit = {
    try if (spark != null) spark.stop()
    finally super.afterAll()
  }
}

object SparkTestSession {
  def builder(master: String): SparkSession.Builder =
    LocalRun.session(master, "sparkpolicy-tests")
      .config("spark.sql.shuffle.partitions", "4")
      .config("spark.default.parallelism", "4")
}

package org.sparkpolicy.examples

import org.apache.spark.sql.SparkSession

/** What every local entry point (demos, benches, tests) shares: `--flag value` options and a loopback-only session. */
object LocalRun {
  /** `--name value` pairs; anything else is ignored. */
  def options(args: Array[String]): Map[String, String] =
    args.grouped(2).collect { case Array(k, v) if k.startsWith("--") => k.drop(2) -> v }.toMap

  /** A local session bound to 127.0.0.1 only, with the UI off. */
  def session(master: String, appName: String): SparkSession.Builder =
    SparkSession.builder()
      .master(master)
      .appName(appName)
      .config("spark.driver.host", "127.0.0.1")
      .config("spark.driver.bindAddress", "127.0.0.1")
      .config("spark.ui.enabled", "false")
}

package org.sparkpolicy.examples

import org.apache.spark.sql.SparkSession
import org.apache.spark.sql.functions._
import org.sparkpolicy.synthetic.PlantedPolicyData
import org.sparkpolicy.ml.PolicyTreeLearner
import org.sparkpolicy.ml.model.PolicyOutputColumns

/**
 * `make demo`: fits a depth-3 policy tree with IPW rewards on deterministic synthetic data with a
 * planted policy (generated on executors), prints the tree, and compares its holdout value with the
 * best single arm and the planted optimum. Spark binds to loopback only.
 *
 * Flags: --rows N (default 1000000), --features F (10), --depth D (3), --partitions P (8), --master M (local[*]).
 */
object PlantedPolicyDemo {
  def main(args: Array[String]): Unit = {
    val opts = LocalRun.options(args)
    val rows = opts.getOrElse("rows", "1000000").toLong
    val features = opts.getOrElse("features", "10").toInt
    val depth = opts.getOrElse("depth", "3").toInt
    val partitions = opts.getOrElse("partitions", "8").toInt
    val spark = LocalRun.session(opts.getOrElse("master", "local[*]"), "sparkpolicy-demo")
      .config("spark.sql.shuffle.partitions", partitions.toString)
      .getOrCreate()
    spark.sparkContext.setLogLevel("WARN")
    try run(spark, rows, features, depth, partitions) finally spark.stop()
  }

  private def seconds(start: Long): String = f"${(System.nanoTime() - start) / 1e9}%.2f s"

  def run(spark: SparkSession, rows: Long, features: Int, depth: Int, partitions: Int): Unit = {
    println(s"Spark Policy Toolkit demo: $rows rows, $features features, 3 arms, planted depth-2 policy, IPW rewards")
    val data = PlantedPolicyData.generate(spark, rows, features, partitions).cache()
    data.count()
    val train = data.where(!col("holdout"))
    val holdout = data.where(col("holdout"))

    val learner = new PolicyTreeLearner()
      .setFeatureCols(PlantedPolicyData.featureNames(features))
      .setTreatmentCol("treatment")
      .setOutcomeCol("outcome")
      .setPropensityCol("propensity")
      .setRewardType("ipw")
      .setMaxDepth(depth)
    var t = System.nanoTime()
    val model = learner.fit(train)
    val fitTime = seconds(t)
    println()
    println(model.toDebugString)

    t = System.nanoTime()
    val scored = model.transform(holdout).cache()
    val n = scored.count()
    val transformTime = seconds(t)

    val learned = PlantedPolicyData.trueValue(scored, PolicyOutputColumns.ActionIndex)
    val planted = PlantedPolicyData.trueValue(holdout, "planted_arm")
    val arms = PlantedPolicyData.Arms.indices.map(a => PlantedPolicyData.Arms(a) -> holdout.select(avg(col(s"mu$a"))).head().getDouble(0))
    val (bestArm, bestArmValue) = arms.maxBy(_._2)
    println(f"Holdout policy value (true mean reward over $n%d rows):")
    println(f"  learned tree             $learned%.4f")
    println(f"  best single arm ($bestArm) $bestArmValue%.4f")
    println(f"  planted optimum          $planted%.4f")
    arms.foreach { case (a, v) => println(f"  always $a%-17s $v%.4f") }
    println(s"fit: $fitTime   transform (score + count $n rows): $transformTime")
    model.trainingSummary.levels.foreach { l =>
      println(s"  level ${l.depth}: ${l.frontierNodes} frontier nodes, ${l.nodesSplit} split, ${l.recordsToDriver} records to driver, ${l.millis} ms")
    }
    println("Signatures (SHA-256; identical in any layout for the same contract and rows):")
    model.signatures.forEach((k, v) => println(f"  $k%-10s $v"))
  }
}

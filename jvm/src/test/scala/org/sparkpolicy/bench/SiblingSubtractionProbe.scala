package org.sparkpolicy.bench

import org.apache.spark.sql.functions.col
import org.apache.spark.storage.StorageLevel
import org.sparkpolicy.examples.LocalRun
import org.sparkpolicy.ml.PolicyTreeLearner
import org.sparkpolicy.synthetic.PlantedPolicyData
import org.sparkpolicy.train.TreeSettings

/**
 * Diagnostic behind issue #12's sibling-subtraction figure, not part of `make bench`: the same given-reward
 * fit (`--rows` × `--features`, rewards r_a = g_a + 3·x_{3+a} as in SparkBench, so the tree reaches
 * `--depth`) with subtraction off and on, alternating, `--reps` times each after one warm-up of each; prints
 * per level the milliseconds and the rows the kernels histogrammed, and checks the two trees are identical.
 *
 * Run: java $(JAVA_OPTS) -cp jvm/target/test-classes:<as make bench> org.sparkpolicy.bench.SiblingSubtractionProbe
 *      [--rows 1000000] [--features 20] [--depth 4] [--partitions 8] [--reps 3]
 */
object SiblingSubtractionProbe {
  def main(args: Array[String]): Unit = {
    val opts = LocalRun.options(args)
    def opt(name: String, default: Int) = opts.get(name).map(_.toInt).getOrElse(default)
    val (rows, features, depth, partitions, reps) = (opt("rows", 1000000), opt("features", 20), opt("depth", 4), opt("partitions", 8),
      opt("reps", 3))
    val spark = LocalRun.session("local[2]", "sparkpolicy-sibling-probe").config("spark.sql.shuffle.partitions", "4").getOrCreate()
    try {
      val names = PlantedPolicyData.featureNames(features)
      val df = PlantedPolicyData.generate(spark, rows, features, partitions)
        .select(names.map(col) ++ (0 until 3).map(a => (col(s"g$a") + col(s"x${3 + a}") * 3.0).as(s"r$a")): _*)
        .persist(StorageLevel.MEMORY_AND_DISK)
      df.count()
      val learner = new PolicyTreeLearner().setFeatureCols(names).setRewardCols(Array("r0", "r1", "r2")).setMaxDepth(depth)
      def fit(on: Boolean) = {
        spark.conf.set(TreeSettings.SiblingSubtractionConf, on.toString)
        learner.fit(df)
      }
      val base = fit(on = false)
      assert(fit(on = true).nodeTable == base.nodeTable, "subtraction changed the tree")
      val runs = (1 to reps).flatMap(_ => Seq(false, true).map(on => on -> fit(on)))
      Seq(false, true).foreach { on =>
        val mine = runs.filter(_._1 == on).map(_._2)
        assert(mine.forall(m => m.nodeTable == base.nodeTable && m.signatures == base.signatures))
        val levels = mine.map(_.trainingSummary.levels)
        val perLevel = levels.head.indices.map { d =>
          val ms = levels.map(_(d).millis).sorted
          f"level $d: median ${ms(ms.size / 2)} ms (${ms.mkString("/")}), ${levels.head(d).rowsHistogrammed} rows histogrammed, " +
            s"${levels.head(d).nodesBuilt} built, ${levels.head(d).nodesDerived} derived"
        }
        val total = levels.map(_.map(_.millis).sum).sorted
        println(s"subtraction ${if (on) "on" else "off"}: levels total median ${total(total.size / 2)} ms (${total.mkString("/")})\n  " +
          perLevel.mkString("\n  "))
      }
    } finally spark.stop()
  }
}

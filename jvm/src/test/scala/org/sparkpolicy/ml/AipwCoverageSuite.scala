package org.sparkpolicy.ml

import java.math.BigInteger

import org.scalatest.funsuite.AnyFunSuite
import org.sparkpolicy.synthetic.PlantedPolicyData
import org.sparkpolicy.bridge.FixedPoint
import org.sparkpolicy.rewards.InProcessAipw
import org.sparkpolicy.train.AipwSettings

/**
 * Coverage of the AIPW policy value's 95% interval, over many seeded replications, without Spark:
 * `InProcessAipw` runs the production boundaries rule, native blocks, kernels and outcome-split search,
 * the outcome-tree grower and the Γ formula; the interval is the evaluator's (exact fixed-point sums,
 * `Moments`: value ± 1.96·sd/√n).
 */
class AipwCoverageSuite extends AnyFunSuite {
  private val arms = 3
  private val n = 2000
  private val replications = 400

  /** A nonlinear baseline shared by every arm, on top of the planted depth-2 effects. */
  private def baseline(x: Array[Double]): Double = 4.0 * x(3) * x(3) + 3.0 * math.sin(6.0 * x(4))

  /** E[baseline] for uniform x3, x4 plus the planted policy's value: the true value of the planted policy. */
  private val trueValue = 4.0 / 3.0 + 3.0 * (1.0 - math.cos(6.0)) / 6.0 + PlantedPolicyData.PlantedValue

  /** The evaluator's interval for the mean of Γ(π(X)), from its exact fixed-point moments. */
  private def interval(chosen: Array[Double]): Moments = {
    val shift = FixedPoint.rewardShift(chosen.length, 2 * chosen.map(math.abs).max)
    val scale = math.pow(2.0, shift)
    var (s, ss) = (BigInteger.ZERO, BigInteger.ZERO)
    chosen.foreach { g =>
      val q = BigInteger.valueOf(math.round(g * scale))
      s = s.add(q)
      ss = ss.add(q.multiply(q))
    }
    Moments(s, ss, chosen.length, shift)
  }

  private def replication(seed: Long, settings: AipwSettings): (Moments, Long) = {
    val rnd = new java.util.Random(seed)
    val x = Array.fill(n)(Array.fill(6)(rnd.nextDouble()))
    val arm = Array.fill(n)(rnd.nextInt(arms)) // randomized: every arm with probability 1/3
    val y = Array.tabulate(n)(i => PlantedPolicyData.mu(arm(i), x(i)(0), x(i)(1), x(i)(2)) + baseline(x(i)) + rnd.nextGaussian())
    // Folds from a hash of the row id, as rowIdCol would give them.
    val fold = Array.tabulate(n)(i => java.lang.Math.floorMod(java.lang.Long.hashCode(seed * 1000003L + i) * 0x9E3779B9, settings.folds))
    val scores = InProcessAipw.scores(x, arm, y, fold, arms, maxBins = 32, settings)
    val policy = x.map(r => PlantedPolicyData.plantedArm(r(0), r(1), r(2)))
    (interval(Array.tabulate(n)(i => scores.gamma(i)(policy(i)))), scores.clipped)
  }

  test(s"the AIPW value's 95% interval covers the true policy value in 92%–98% of $replications replications") {
    val started = System.nanoTime()
    val results = (0 until replications).map(r => replication(1000L + r, AipwSettings.defaults(maxMemoryMB = 256, nativeThreads = 1)))
    val covered = results.count { case (m, _) => m.low <= trueValue && trueValue <= m.high }
    val rate = covered.toDouble / replications
    val meanValue = results.map(_._1.value).sum / replications
    val seconds = (System.nanoTime() - started) / 1e9
    info(f"coverage $rate%.4f ($covered/$replications), mean estimate $meanValue%.4f vs true $trueValue%.4f, " +
      f"mean se ${results.map(_._1.se).sum / replications}%.4f, $seconds%.1f s")
    assert(results.forall(_._2 == 0), "design shares of 1/3 never fall below the default floor")
    assert(math.abs(meanValue - trueValue) < 0.02, s"mean estimate $meanValue vs $trueValue")
    assert(rate >= 0.92 && rate <= 0.98, f"coverage $rate%.4f")
    assert(seconds < 60, s"took $seconds s")
  }
}

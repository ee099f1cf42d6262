package org.sparkpolicy.rewards

import org.sparkpolicy.ml.model.{NodeTable, TreeNode}

/**
 * The AIPW score of one row, for every arm a:
 *   Γ(a) = μ̂_a(X) + 1{W=a}·(Y − μ̂_a(X)) / ê(X),
 * where μ̂ comes from the outcome model of the row's fold (never one that saw the row) and ê is the
 * probability of the received arm — given (`propensityCol`), the design share of the arm, or the
 * arm's share in the fold tree's leaf — clipped to [propensityFloor, 1]. Used by the Spark path and
 * by the in-process path alike, so both compute the same bits.
 */
private[sparkpolicy] final case class AipwScorer(arms: Int, floor: Double, propensity: String, shares: Array[Double], trees: Array[NodeTable]) {

  /** Writes Γ into `out` and returns whether the propensity was clipped up to the floor. */
  def scoreWith(mu: Int => Double, arm: Int, y: Double, e: Double, out: Array[Double]): Boolean = {
    val clipped = !(e >= floor)
    val p = if (clipped) floor else math.min(e, 1.0)
    var a = 0
    while (a < arms) {
      val m = mu(a)
      out(a) = if (a == arm) m + (y - m) / p else m
      a += 1
    }
    clipped
  }

  /** Γ of a row from the fold trees: `x(f)` reads feature f (NaN = missing), `eGiven` is NaN unless a column gives it. */
  def score(x: Int => Double, fold: Int, arm: Int, y: Double, eGiven: Double, out: Array[Double]): Boolean = {
    val leaf = trees(fold).leafOf(x)
    scoreWith(leaf.values, arm, y, propensityOf(leaf, arm, eGiven), out)
  }

  def propensityOf(leaf: TreeNode, arm: Int, eGiven: Double): Double = propensity match {
    case "column" => eGiven
    case "shares" => shares(arm)
    case "tree" => leaf.values(arms + arm)
  }
}

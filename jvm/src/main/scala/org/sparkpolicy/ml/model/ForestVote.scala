package org.sparkpolicy.ml.model

/**
 * How a forest predicts, defined once for every scorer and the training output signature (as EconML's
 * `PolicyForest`): per arm, the mean over the trees of each tree's leaf mean Γ, summed in tree order and
 * divided by the number of trees; the action is the first arm with the largest mean.
 */
object ForestVote {
  /** `leafOf(t)` is tree t's leaf for the row; the row's per-arm scores. */
  def scores(trees: IndexedSeq[NodeTable], leafOf: Int => TreeNode): Array[Double] = {
    val k = trees.head.nArms
    val sums = new Array[Double](k)
    var t = 0
    while (t < trees.length) {
      val v = leafOf(t).values
      var a = 0
      while (a < k) { sums(a) += v(a); a += 1 }
      t += 1
    }
    var a = 0
    while (a < k) { sums(a) /= trees.length; a += 1 }
    sums
  }

  /** The first index of the largest score (ties to the lowest arm index). */
  def action(scores: Array[Double]): Int = {
    var best = 0
    var a = 1
    while (a < scores.length) { if (scores(a) > scores(best)) best = a; a += 1 }
    best
  }
}

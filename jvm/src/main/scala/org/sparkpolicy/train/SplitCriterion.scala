package org.sparkpolicy.train

import org.sparkpolicy.bridge.{Candidate, SplitSearch}
import org.sparkpolicy.ml.model.TreeNode

/**
 * What a level-wise tree maximizes and what its leaves hold: the one difference between the policy tree
 * and the AIPW outcome trees, which share `TreeGrower`, the blocks, the kernels and the split search.
 * A candidate's reward comes from the native split search (`native/core/src/split.rs`); the criterion
 * decides whether it beats the node left unsplit, by how much, and what an unsplit node predicts.
 */
private[sparkpolicy] sealed trait SplitCriterion {
  /** Histogram channels per row (a row count follows them in every cell). */
  def channels: Int
  /** Values per node of the finished table. */
  def width: Int
  /** A node without rows gets no split record: an empty leaf for outcome trees, a bug for the policy tree. */
  def emptyNodesAllowed: Boolean
  /** The node with `totals` left unsplit, which its candidates are measured against (computed once per node). */
  def unsplit(totals: Array[Long]): SplitCriterion.Unsplit
  /** The leaf `id`, given every grown node's totals. */
  def leaf(id: Int, totalsOf: Int => Array[Long]): TreeNode
}

private[sparkpolicy] object SplitCriterion {
  /** One node's value without a split: whether a candidate beats it, and by how much. */
  trait Unsplit {
    def accepts(c: Candidate): Boolean
    /** The gain of `c` over the unsplit node, in the criterion's output units. */
    def gain(c: Candidate): Double
  }

  /**
   * policytree's: a split's reward is the best arm's Γ sum left plus right (exact integers, 2^-shift
   * units); a leaf takes the arm with the largest Γ sum (ties to the lowest index) and holds the mean Γ.
   */
  final case class Policy(nArms: Int, shift: Int) extends SplitCriterion {
    private val scale = math.pow(2.0, -shift)
    def channels: Int = nArms
    def width: Int = nArms
    def emptyNodesAllowed: Boolean = false

    def bestArm(t: Array[Long]): (Int, Long) = {
      var best = 0
      var a = 1
      while (a < nArms) { if (t(a) > t(best)) best = a; a += 1 }
      (best, t(best))
    }

    def unsplit(totals: Array[Long]): Unsplit = new Unsplit {
      private val own = BigInt(bestArm(totals)._2)
      def accepts(c: Candidate): Boolean = c.reward > own
      def gain(c: Candidate): Double = (c.reward - own).toDouble * scale
    }

    def leaf(id: Int, totalsOf: Int => Array[Long]): TreeNode = {
      val t = totalsOf(id)
      val n = t(nArms)
      TreeNode(id, isLeaf = true, -1, 0.0, -1, missingLeft = false, bestArm(t)._1, n,
        Vector.tabulate(nArms)(a => if (n == 0) 0.0 else t(a).toDouble * scale / n.toDouble))
    }
  }

  /**
   * An AIPW outcome tree's (C = 2A + 1 channels: ΣY·1{W=a} in 2^-shift units, Σ1{W=a}, Σfold): a split's
   * reward is Σ_a (S_aL²/n_aL + S_aR²/n_aR) as f64 bits, the node's own score the same sum unsplit, both
   * computed natively (`native/core/src/outcome.rs`); a split must beat it by more than 1e-12 relative, so
   * float noise is never a gain. A leaf predicts, per arm, μ̂_a = S_a/n_a from the nearest node on its
   * root path (itself first) with at least `minNodeSize` rows of the arm, else from the root when the arm has
   * any rows there, else 0; then ê_a = the arm's share of the leaf.
   */
  final case class Outcome(arms: Int, shift: Int, minNodeSize: Int) extends SplitCriterion {
    private val unit = math.pow(2.0, -shift)
    def channels: Int = 2 * arms + 1
    def width: Int = 2 * arms
    def emptyNodesAllowed: Boolean = true

    def unsplit(totals: Array[Long]): Unsplit = new Unsplit {
      private val own = SplitSearch.outcomeScore(totals, arms)
      def accepts(c: Candidate): Boolean = c.outcomeScore - own > 1e-12 * own && c.outcomeScore > own
      def gain(c: Candidate): Double = (c.outcomeScore - own) * unit * unit
    }

    def leaf(id: Int, totalsOf: Int => Array[Long]): TreeNode = {
      def mean(a: Int): Double = {
        var node = id
        while (node > 1 && totalsOf(node)(arms + a) < minNodeSize) node /= 2
        val n = totalsOf(node)(arms + a)
        if (n == 0) 0.0 else totalsOf(node)(a).toDouble * unit / n.toDouble
      }
      val n = totalsOf(id)(channels)
      val share = Vector.tabulate(arms)(a => if (n == 0) 0.0 else totalsOf(id)(arms + a).toDouble / n.toDouble)
      TreeNode(id, isLeaf = true, -1, 0.0, -1, missingLeft = false, 0, n, Vector.tabulate(arms)(mean) ++ share)
    }
  }
}

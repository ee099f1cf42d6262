package org.sparkpolicy.exec

import scala.collection.mutable

/**
 * The driver's reducer for one outcome (nuisance) tree of AIPW: like `TreeGrower`, it sees only split
 * records, picks the best per node in the fixed tie order and grows level by level, but scores splits
 * by the outcome criterion (native/core/src/outcome.rs) and ends in leaves that predict, per arm, the
 * mean outcome μ̂_a and the arm's share ê_a of the leaf's rows.
 *
 * Channels of the histograms (C = 2A + 1): ΣY·1{W=a} (fixed-point, scale 2^-shift), Σ1{W=a}, Σfold.
 * The finished table has 2A values per node: μ̂_0..μ̂_{A−1}, then ê_0..ê_{A−1}.
 */
private[sparkpolicy] final class OutcomeTreeGrower(arms: Int, shift: Int, maxDepth: Int, minNodeSize: Int, edges: Array[Array[Double]],
    categorical: Array[Boolean] = Array.empty) {
  val channels: Int = 2 * arms + 1
  private val splits = mutable.TreeMap.empty[Int, ChosenSplit]
  private val totals = mutable.TreeMap.empty[Int, Array[Long]]
  private val unit = math.pow(2.0, -shift)

  private def depthOf(id: Int): Int = 31 - Integer.numberOfLeadingZeros(id)
  private def count(t: Array[Long]): Long = t(channels)

  /** Σ_a S_a²/n_a, in arm order: the same f64 operations as `outcome::outcome_score`. */
  private def score(t: Array[Long]): Double = {
    var total = 0.0
    var a = 0
    while (a < arms) {
      val n = t(arms + a)
      if (n > 0) { val s = t(a).toDouble; total += s * s / n.toDouble }
      a += 1
    }
    total
  }

  private def rewardValue(c: Candidate): Double = java.lang.Double.longBitsToDouble(c.reward.toLong)

  /** The routing tree for the next level: accepted splits, every other node a leaf. */
  def trainingTable(): NodeTable = ChosenSplit.routingTable(splits, channels)

  /** Applies one level's split records; returns the next frontier (sorted node ids). */
  def applyLevel(frontier: Array[Int], records: Array[SplitRecord]): Array[Int] = {
    val byNode = records.groupBy(_.nodeId)
    val next = Array.newBuilder[Int]
    frontier.foreach { node =>
      // A node with no rows outside the held-out fold gets no record; it stays an (empty) leaf.
      val recs = byNode.getOrElse(node, Array.empty[SplitRecord]).sortBy(_.featureBlock)
      recs.headOption.foreach(r => totals.getOrElseUpdate(node, r.totals))
      // Feature blocks are contiguous in contract order: the first strict maximum is the first in loop order.
      val winner = recs.flatMap(r => r.best.map(_ -> r)).foldLeft(Option.empty[(Candidate, SplitRecord)]) {
        case (Some(b), c) if c._1.reward <= b._1.reward => Some(b)
        case (_, c) => Some(c)
      }
      val own = totals.get(node).map(score).getOrElse(0.0)
      // A relative margin keeps float rounding of a zero-gain split from being taken as a gain.
      winner.filter { case (c, _) => rewardValue(c) - own > 1e-12 * own && rewardValue(c) > own }.foreach { case (b, rec) =>
        val threshold = edges(b.feature).lift(b.thresholdBin).getOrElse(Double.PositiveInfinity)
        splits(node) = ChosenSplit(b.feature, b.thresholdBin, threshold, b.missingLeft, (rewardValue(b) - own) * unit * unit,
          ChosenSplit.isCategorical(categorical, edges, b.feature, b.thresholdBin))
        totals(2 * node) = rec.left
        totals(2 * node + 1) = rec.right
        Seq(2 * node, 2 * node + 1).foreach { child =>
          if (depthOf(child) < maxDepth && count(totals(child)) >= 2L * minNodeSize) next += child
        }
      }
    }
    next.result().sorted
  }

  /**
   * The finished tree. A leaf's μ̂_a is S_a/n_a from the nearest node on its root path (itself first)
   * with at least `minNodeSize` rows of arm a, else from the root when the arm has any rows there,
   * else 0. Its ê_a is the arm's share of the leaf's rows.
   */
  def result(): NodeTable = {
    val ids = (splits.keySet ++ splits.keySet.flatMap(id => Seq(2 * id, 2 * id + 1)) + 1).toVector.sorted
    val empty = Array.fill(channels + 1)(0L)
    def t(id: Int) = totals.getOrElse(id, empty)
    def mean(id: Int, a: Int): Double = {
      var node = id
      while (node > 1 && t(node)(arms + a) < minNodeSize) node /= 2
      val n = t(node)(arms + a)
      if (n == 0) 0.0 else t(node)(a).toDouble * unit / n.toDouble
    }
    NodeTable(2 * arms, ids.map { id =>
      val n = count(t(id))
      splits.get(id) match {
        case Some(s) =>
          TreeNode(id, isLeaf = false, s.feature, s.threshold, s.thresholdBin, s.missingLeft, -1, n, Vector.fill(2 * arms)(0.0), s.categorical)
        case None =>
          val mu = Vector.tabulate(arms)(a => mean(id, a))
          val share = Vector.tabulate(arms)(a => if (n == 0) 0.0 else t(id)(arms + a).toDouble / n.toDouble)
          TreeNode(id, isLeaf = true, -1, 0.0, -1, missingLeft = false, 0, n, mu ++ share)
      }
    })
  }
}

package org.sparkpolicy.exec

import scala.collection.mutable

/** A split the driver accepted: rows with code ≤ thresholdBin (x ≤ edge) go left. */
private[sparkpolicy] final case class ChosenSplit(feature: Int, thresholdBin: Int, threshold: Double, missingLeft: Boolean, gain: Double,
    categorical: Boolean = false)

private[sparkpolicy] object ChosenSplit {
  /**
   * The tree to route rows with during a tree's next level: the accepted splits, every other node a
   * leaf, `width` zero values per node. Shared by the policy and outcome tree growers.
   */
  def routingTable(splits: collection.Map[Int, ChosenSplit], width: Int): NodeTable = {
    val ids = (splits.keySet ++ splits.keySet.flatMap(id => Seq(2 * id, 2 * id + 1)) + 1).toVector.sorted
    val zeros = Vector.fill(width)(0.0)
    NodeTable(width, ids.map { id =>
      splits.get(id) match {
        case Some(s) => TreeNode(id, isLeaf = false, s.feature, s.threshold, s.thresholdBin, s.missingLeft, -1, 0L, zeros, s.categorical)
        case None => TreeNode(id, isLeaf = true, -1, 0.0, -1, missingLeft = false, 0, 0L, zeros)
      }
    })
  }

  /**
   * The split kind of a candidate: one-vs-rest when its feature is categorical and the bin is a
   * category (a categorical feature's edges are its codes); "missing vs the rest" (bin past the last
   * edge) stays the numeric `x <= +∞`.
   */
  def isCategorical(categorical: Array[Boolean], edges: Array[Array[Double]], feature: Int, thresholdBin: Int): Boolean =
    categorical.lift(feature).getOrElse(false) && thresholdBin < edges(feature).length
}

/**
 * One entry of the split-decision log: what a frontier node decided, its gain over staying a leaf
 * (in reward units), and the runner-up: the best split on any other feature (feature −1 if none).
 * A node that did not split records its best candidate anyway (`split` false), when it had one.
 */
final case class SplitDecision(
    depth: Int,
    node: Int,
    split: Boolean,
    rows: Long,
    feature: Int,
    threshold: Double,
    missingLeft: Boolean,
    gain: Double,
    runnerUpFeature: Int,
    runnerUpThreshold: Double,
    runnerUpGain: Double)

/**
 * The driver's small reducer. It sees only split records (never a histogram), picks the best per
 * node with the fixed tie order, grows the tree level by level and finally turns every unsplit
 * node into a leaf: the arm with the largest Γ sum (ties to the lowest index) and the mean Γ per arm.
 */
private[sparkpolicy] final class TreeGrower(nArms: Int, shift: Int, maxDepth: Int, minNodeSize: Int, edges: Array[Array[Double]],
    categorical: Array[Boolean] = Array.empty) {
  private val splits = mutable.TreeMap.empty[Int, ChosenSplit]
  private val totals = mutable.TreeMap.empty[Int, Array[Long]]
  private val scale = math.pow(2.0, -shift)
  val decisions: mutable.ArrayBuffer[SplitDecision] = mutable.ArrayBuffer.empty

  private def count(t: Array[Long]): Long = t(nArms)

  private def bestArm(t: Array[Long]): (Int, Long) = {
    var best = 0
    var a = 1
    while (a < nArms) { if (t(a) > t(best)) best = a; a += 1 }
    (best, t(best))
  }

  private def depthOf(id: Int): Int = 31 - Integer.numberOfLeadingZeros(id)

  /** The tree to route rows with during the next level: accepted splits, every other node a leaf. */
  def trainingTable(): NodeTable = ChosenSplit.routingTable(splits, nArms)

  /** Applies one level's split records; returns the next frontier (sorted node ids). */
  def applyLevel(frontier: Array[Int], records: Array[SplitRecord]): Array[Int] = {
    val byNode = records.groupBy(_.nodeId)
    val next = Array.newBuilder[Int]
    frontier.foreach { node =>
      val recs = byNode.getOrElse(node, throw new IllegalStateException(s"no split record for frontier node $node"))
        .sortBy(_.featureBlock)
      val t = recs.head.totals
      totals.getOrElseUpdate(node, t)
      // Feature blocks are contiguous in contract order, so the first strict maximum is the first in loop order.
      val candidates = recs.flatMap(r => r.best.map(_ -> r))
      val winner = candidates.foldLeft(Option.empty[(Candidate, SplitRecord)]) {
        case (Some(b), c) if c._1.reward <= b._1.reward => Some(b)
        case (_, c) => Some(c)
      }
      // Runner-up: the winner block's own runner-up, or another block's best (blocks hold disjoint features).
      val runnerUp = winner.flatMap { case (w, wr) =>
        (wr.runnerUp.toSeq ++ recs.filter(_ ne wr).flatMap(_.best)).sortBy(_.feature).foldLeft(Option.empty[Candidate]) {
          case (Some(b), c) if c.reward <= b.reward => Some(b)
          case (_, c) => Some(c)
        }
      }
      val own = BigInt(bestArm(t)._2)
      def gainOf(c: Candidate) = (c.reward - own).toDouble * scale
      // thresholdBin past the last edge is the "missing vs the rest" split: every value goes left (x <= +∞).
      def thresholdOf(c: Candidate) = edges(c.feature).lift(c.thresholdBin).getOrElse(Double.PositiveInfinity)
      val accepted = winner.filter(_._1.reward > own)
      decisions += SplitDecision(depthOf(node), node, accepted.isDefined, count(t),
        winner.map(_._1.feature).getOrElse(-1), winner.map(w => thresholdOf(w._1)).getOrElse(Double.NaN),
        winner.exists(_._1.missingLeft), winner.map(w => gainOf(w._1)).getOrElse(0.0),
        runnerUp.map(_.feature).getOrElse(-1), runnerUp.map(thresholdOf).getOrElse(Double.NaN), runnerUp.map(gainOf).getOrElse(0.0))
      accepted.foreach { case (b, rec) =>
        splits(node) = ChosenSplit(b.feature, b.thresholdBin, thresholdOf(b), b.missingLeft, gainOf(b),
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

  def splitCount: Int = splits.size

  /** The best constant arm on the training data (the root's best arm), recorded to avoid the winner's curse at evaluation. */
  def rootBestArm: Int = bestArm(totals(1))._1

  /**
   * The finished tree, with sibling leaves of the same arm merged (policytree's post-processing). Under
   * the strict-improvement rule an accepted split always has children with different best arms, so this
   * never fires for a greedy tree today; it keeps the output canonical should the growth rule change.
   */
  def result(): NodeTable = {
    var changed = true
    while (changed) {
      changed = false
      splits.keys.toVector.sorted.reverse.foreach { id =>
        val (l, r) = (2 * id, 2 * id + 1)
        if (!splits.contains(l) && !splits.contains(r) && bestArm(totals(l))._1 == bestArm(totals(r))._1) {
          splits.remove(id)
          changed = true
        }
      }
    }
    val ids = (splits.keySet ++ splits.keySet.flatMap(id => Seq(2 * id, 2 * id + 1)) + 1).toVector.sorted
    NodeTable(nArms, ids.map { id =>
      val t = totals(id)
      splits.get(id) match {
        case Some(s) =>
          TreeNode(id, isLeaf = false, s.feature, s.threshold, s.thresholdBin, s.missingLeft, -1, count(t), Vector.fill(nArms)(0.0),
            s.categorical)
        case None =>
          val n = count(t).toDouble
          TreeNode(id, isLeaf = true, -1, 0.0, -1, missingLeft = false, bestArm(t)._1, count(t),
            Vector.tabulate(nArms)(a => if (n == 0) 0.0 else t(a).toDouble * scale / n))
      }
    })
  }
}

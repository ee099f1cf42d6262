package org.sparkpolicy.train

import scala.collection.mutable

import org.sparkpolicy.bridge.{Candidate, SplitRecord}
import org.sparkpolicy.ml.model.{NodeTable, SplitDecision, TreeNode}

/**
 * The driver's small reducer, for the policy tree and the AIPW outcome trees alike (`criterion` is the
 * difference). It sees only split records (never a histogram), picks the best per node in the fixed tie
 * order (features in contract order, thresholds ascending: the first strict maximum), accepts it when
 * the criterion says it beats the unsplit node, logs the decision, grows level by level, and finally
 * turns every unsplit node into the criterion's leaf.
 */
private[sparkpolicy] final class TreeGrower(criterion: SplitCriterion, maxDepth: Int, minNodeSize: Int, edges: Array[Array[Double]],
    categorical: Array[Boolean] = Array.empty) {
  private val splits = mutable.TreeMap.empty[Int, ChosenSplit]
  private val totals = mutable.TreeMap.empty[Int, Array[Long]]
  private val empty = Array.fill(criterion.channels + 1)(0L)
  val decisions: mutable.ArrayBuffer[SplitDecision] = mutable.ArrayBuffer.empty

  private def count(t: Array[Long]): Long = t(criterion.channels)

  private def firstBest[T](xs: Seq[T])(reward: T => BigInt): Option[T] =
    xs.foldLeft(Option.empty[T]) {
      case (Some(b), c) if reward(c) <= reward(b) => Some(b)
      case (_, c) => Some(c)
    }

  // thresholdBin past the last edge is the "missing vs the rest" split: every value goes left (x <= +∞).
  private def thresholdOf(c: Candidate): Double = edges(c.feature).lift(c.thresholdBin).getOrElse(Double.PositiveInfinity)

  /** The tree to route rows with during the next level: accepted splits, every other node a leaf. */
  def trainingTable(): NodeTable = ChosenSplit.routingTable(splits, criterion.channels)

  /** Applies one level's split records; returns the next frontier (sorted node ids). */
  def applyLevel(frontier: Array[Int], records: Array[SplitRecord]): Array[Int] = applyChoices(choose(frontier, records))

  /**
   * Per frontier node, the first best candidate over its records in the fixed tie order (with the record
   * it came from, whose left/right sums become the children's totals) and the runner-up. A node
   * without rows has no record; it is a leaf, or a bug for the policy tree.
   */
  def choose(frontier: Array[Int], records: Array[SplitRecord]): Vector[NodeChoice] = {
    val byNode = records.groupBy(_.nodeId)
    frontier.toVector.flatMap { node =>
      val recs = byNode.getOrElse(node,
        if (criterion.emptyNodesAllowed) Array.empty[SplitRecord]
        else throw new IllegalStateException(s"no split record for frontier node $node")).sortBy(_.featureBlock)
      recs.headOption.map { r =>
        // Feature blocks are contiguous in contract order, so the first strict maximum is the first in loop order.
        val winner = firstBest(recs.toSeq.flatMap(r => r.best.map(_ -> r)))(_._1.reward)
        // Runner-up: the winner block's own runner-up, or another block's best (blocks hold disjoint features).
        val runnerUp = winner.flatMap { case (_, wr) =>
          firstBest((wr.runnerUp.toSeq ++ recs.filter(_ ne wr).flatMap(_.best)).sortBy(_.feature))(_.reward)
        }
        // A bin whose bound is below the node's best cannot hold a better (or tying) fine threshold.
        val reach = winner.map(_._1.reward)
        val refine = recs.toVector.flatMap(_.refine).filter(b => reach.forall(b.bound >= _))
        NodeChoice(node, totals.getOrElse(node, r.totals), winner, runnerUp, refine, recs.flatMap(_.leftOut).maxOption)
      }
    }
  }

  /** Logs each node's decision, accepts the winners the criterion takes, and returns the next frontier. */
  def applyChoices(choices: Vector[NodeChoice]): Array[Int] = {
    val next = Array.newBuilder[Int]
    choices.foreach { case NodeChoice(node, t, winner, runnerUp, _, _) =>
      totals.getOrElseUpdate(node, t)
      val unsplit = criterion.unsplit(t)
      val accepted = winner.filter { case (c, _) => unsplit.accepts(c) }
      decisions += SplitDecision(TreeNode.depthOf(node), node, accepted.isDefined, count(t),
        winner.map(_._1.feature).getOrElse(-1), winner.map(w => thresholdOf(w._1)).getOrElse(Double.NaN),
        winner.exists(_._1.missingLeft), winner.map(w => unsplit.gain(w._1)).getOrElse(0.0),
        runnerUp.map(_.feature).getOrElse(-1), runnerUp.map(thresholdOf).getOrElse(Double.NaN),
        runnerUp.map(unsplit.gain(_)).getOrElse(0.0))
      accepted.foreach { case (b, rec) =>
        splits(node) = ChosenSplit(b.feature, b.thresholdBin, thresholdOf(b), b.missingLeft, unsplit.gain(b),
          ChosenSplit.isCategorical(categorical, edges, b.feature, b.thresholdBin))
        totals(2 * node) = rec.left
        totals(2 * node + 1) = rec.right
        Seq(2 * node, 2 * node + 1).foreach { child =>
          if (TreeNode.depthOf(child) < maxDepth && count(totals(child)) >= 2L * minNodeSize) next += child
        }
      }
    }
    next.result().sorted
  }

  def splitCount: Int = splits.size

  /** A grown node's row count (its parent's split record's left or right side), 0 for a node not grown. */
  def rowsOf(node: Int): Long = totals.get(node).map(count).getOrElse(0L)

  /** The root's totals (the whole training data's per-channel sums and row count). */
  def rootTotals: Array[Long] = totals.getOrElse(1, empty)

  /**
   * The finished tree: accepted splits, and the criterion's leaf at every other node, from the totals the
   * splits' records gave or, for a leaf in `leafTotals` (an honest forest tree's estimation rows), from those.
   */
  def result(leafTotals: collection.Map[Int, Array[Long]] = Map.empty): NodeTable = {
    val totalsOf = (id: Int) => totals.getOrElse(id, empty)
    NodeTable(criterion.width, NodeTable.grownIds(splits.keySet).map { id =>
      splits.get(id) match {
        case Some(s) =>
          TreeNode(id, isLeaf = false, s.feature, s.threshold, s.thresholdBin, s.missingLeft, -1, count(totalsOf(id)),
            Vector.fill(criterion.width)(0.0), s.categorical)
        case None => criterion.leaf(id, x => leafTotals.getOrElse(x, totalsOf(x)))
      }
    })
  }
}

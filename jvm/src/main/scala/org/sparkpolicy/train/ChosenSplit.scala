package org.sparkpolicy.train

import org.sparkpolicy.ml.model.{NodeTable, TreeNode}

/** A split the driver accepted: rows with code ≤ thresholdBin (x ≤ edge) go left. */
private[sparkpolicy] final case class ChosenSplit(feature: Int, thresholdBin: Int, threshold: Double, missingLeft: Boolean, gain: Double,
    categorical: Boolean = false)

private[sparkpolicy] object ChosenSplit {
  /**
   * The tree to route rows with during a tree's next level: the accepted splits, every other node a
   * leaf, `width` zero values per node.
   */
  def routingTable(splits: collection.Map[Int, ChosenSplit], width: Int): NodeTable = {
    val zeros = Vector.fill(width)(0.0)
    NodeTable(width, NodeTable.grownIds(splits.keySet).map { id =>
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

package org.sparkpolicy.train

import org.sparkpolicy.contract.Contract
import org.sparkpolicy.ml.model.{LevelStats, NodeTable, SplitDecision}

/** Everything a fit produces besides the model's Params. */
private[sparkpolicy] final case class TrainedTree(
    tree: NodeTable,
    contract: Contract,
    rewardType: String,
    rewardShift: Int,
    nRows: Long,
    levels: Vector[LevelStats],
    decisions: Vector[SplitDecision],
    bestArmOnTraining: Int,
    inputSignature: String,
    droppedRows: Long = 0L,
    clippedPropensities: Long = 0L) {
  def vocabulary: Array[String] = contract.vocabulary.toArray
  def boundaries: Array[Array[Double]] = contract.boundaries.map(_.toArray).toArray
  def decisionsSignature: String = TreeTrainer.decisionsSignature(decisions)
}

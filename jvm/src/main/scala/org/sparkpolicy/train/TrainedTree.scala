package org.sparkpolicy.train

import org.sparkpolicy.contract.{Contract, Signatures}
import org.sparkpolicy.ml.model.{LevelStats, NodeTable, SplitDecision}

/**
 * Everything a fit produces besides the model's Params. `outputRows`: the training output signature's
 * hashes of the rows in the blocks (a fit only; a loaded model has its signature). `phaseMillis`: the
 * fit's phases in order (`TreeTrainer.Phases`) with their wall-clock milliseconds.
 */
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
    clippedPropensities: Long = 0L,
    outputRows: Option[Signatures.RowHashes] = None,
    phaseMillis: Seq[(String, Long)] = Nil) {
  def vocabulary: Array[String] = contract.vocabulary.toArray
  def boundaries: Array[Array[Double]] = contract.boundaries.map(_.toArray).toArray
  def decisionsSignature: String = TreeTrainer.decisionsSignature(decisions)
}

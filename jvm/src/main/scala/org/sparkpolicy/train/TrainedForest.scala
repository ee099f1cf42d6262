package org.sparkpolicy.train

import java.security.MessageDigest

import org.sparkpolicy.contract.{Contract, Signatures}
import org.sparkpolicy.ml.model.{LevelStats, NodeTable, SplitDecision}

/**
 * Everything a forest fit produces besides the model's Params: the trees (tree id = index), each tree's
 * decision log, and the fit's record as a tree's (`TrainedTree`). `featureSubsetSize` is the resolved
 * `featureSubsetStrategy`; `bestArms` each tree's best constant arm on its own rows, `bestArm` the forest's on
 * every training row (−1 in saves from before it was recorded).
 */
private[sparkpolicy] final case class TrainedForest(
    trees: Vector[NodeTable],
    decisions: Vector[Vector[SplitDecision]],
    contract: Contract,
    rewardType: String,
    rewardShift: Int,
    nRows: Long,
    levels: Vector[LevelStats],
    inputSignature: String,
    droppedRows: Long,
    clippedPropensities: Long,
    outputRows: Option[Signatures.RowHashes],
    phaseMillis: Seq[(String, Long)],
    settings: ForestSettings,
    featureSubsetSize: Int,
    bestArms: Vector[Int],
    bestArm: Int) {
  def vocabulary: Array[String] = contract.vocabulary.toArray

  /** Tree t as a tree fit's record (no levels of its own: the forest's are shared by every tree). */
  def member(t: Int): TrainedTree = TrainedTree(trees(t), contract, rewardType, rewardShift, nRows, Vector.empty, decisions(t),
    bestArms(t), inputSignature, droppedRows, clippedPropensities)

  /** SHA-256 over the tree count and every tree's `contentHash`, in tree order. */
  def modelSignature: String = TrainedForest.sha256(trees.size.toString +: trees.map(_.contentHash))

  /** SHA-256 over every tree's decision log signature, in tree order. */
  def decisionsSignature: String = TrainedForest.sha256(decisions.size.toString +: decisions.map(TreeTrainer.decisionsSignature))
}

private[sparkpolicy] object TrainedForest {
  private def sha256(parts: Seq[String]): String = {
    val digest = MessageDigest.getInstance("SHA-256")
    parts.foreach(p => digest.update((p + "\n").getBytes(java.nio.charset.StandardCharsets.UTF_8)))
    digest.digest().map(b => f"$b%02x").mkString
  }
}

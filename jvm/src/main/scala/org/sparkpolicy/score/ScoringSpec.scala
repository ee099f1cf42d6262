package org.sparkpolicy.score

import org.apache.spark.broadcast.Broadcast
import org.apache.spark.util.LongAccumulator
import org.sparkpolicy.bridge.ScoringPayload

/**
 * What a transform's scoring tasks need, fixed at `transform`: the broadcast tree, the arm labels,
 * the Arrow batch size and, per feature, its category labels (None: numeric).
 */
private[sparkpolicy] final case class ScoringSpec(modelUid: String, treeHash: String, payload: Broadcast[ScoringPayload],
    vocabulary: Array[String], batchRows: Int, categories: Array[Option[Array[String]]], unseen: LongAccumulator) {
  def hasCategorical: Boolean = categories.exists(_.isDefined)
  override def toString: String = s"$modelUid, tree ${treeHash.take(12)}"
}

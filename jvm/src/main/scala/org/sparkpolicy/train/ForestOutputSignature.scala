package org.sparkpolicy.train

import org.apache.spark.rdd.RDD
import org.sparkpolicy.bridge.{BlockLeaves, NodeTableIpc}
import org.sparkpolicy.contract.Signatures
import org.sparkpolicy.ml.model.{ForestVote, NodeTable}

/**
 * A forest's training output signature from its training blocks, as `OutputSignature` signs a tree's:
 * each block's rows go through every tree natively (`bridge.BlockLeaves`), the row's scores and action
 * are `ForestVote`'s, and each row's key hash with them is hashed as `Signatures.output` hashes a scored row.
 */
private[sparkpolicy] object ForestOutputSignature {
  def hashes(blocks: RDD[KeyedBlock], trees: Vector[NodeTable], codesPerFeature: Array[Int]): Signatures.RowHashes = {
    val payload = blocks.sparkContext.broadcast((trees.map(NodeTableIpc.encode), codesPerFeature.toSeq, trees))
    try {
      blocks.mapPartitions { it =>
        val (ipcs, codes, forest) = payload.value
        val routes = ipcs.map(new BlockLeaves(_, codes))
        val hasher = new Signatures.OutputRowHasher
        val rows = new Signatures.RowHashes
        it.foreach { b =>
          val leaves = routes.map(_.of(b.bytes))
          var i = 0
          while (i < b.rowKeys.length) {
            val scores = ForestVote.scores(forest, t => forest(t).byId(leaves(t)(i)))
            hasher.add(rows, b.rowKeys(i), ForestVote.action(scores), Signatures.OutputRowHasher.scores(scores.toSeq))
            i += 1
          }
        }
        Iterator.single(rows)
      }.fold(new Signatures.RowHashes)(_ merge _)
    } finally payload.destroy()
  }
}

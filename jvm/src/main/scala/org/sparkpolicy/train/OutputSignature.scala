package org.sparkpolicy.train

import org.apache.spark.rdd.RDD
import org.sparkpolicy.bridge.{BlockLeaves, NodeTableIpc}
import org.sparkpolicy.contract.Signatures
import org.sparkpolicy.ml.model.NodeTable

/**
 * The training output signature from the training blocks, without scoring the training rows again: each
 * block's rows are routed through the finished tree natively (`bridge.BlockLeaves`), and each row's key
 * hash (carried beside its block) with its leaf's arm and scores is hashed as `Signatures.output` hashes a
 * scored row. The route on bins is the scorer's on values, so the hashes are the ones scoring gives.
 */
private[sparkpolicy] object OutputSignature {
  /** The hashes of the blocks' rows (merge them with any rows not in the blocks, then sign). */
  def hashes(blocks: RDD[KeyedBlock], tree: NodeTable, codesPerFeature: Array[Int]): Signatures.RowHashes = {
    val sc = blocks.sparkContext
    val leaves = tree.leaves
    val arm = new Array[Int](leaves.map(_.id).max + 1)
    val scores = new Array[org.apache.spark.sql.catalyst.util.ArrayData](arm.length)
    leaves.foreach { l => arm(l.id) = l.arm; scores(l.id) = Signatures.OutputRowHasher.scores(l.values) }
    val payload = sc.broadcast((NodeTableIpc.encode(tree), codesPerFeature.toSeq, arm, scores))
    try {
      blocks.mapPartitions { it =>
        val (treeIpc, codes, armOf, scoresOf) = payload.value
        val route = new BlockLeaves(treeIpc, codes)
        val hasher = new Signatures.OutputRowHasher
        val rows = new Signatures.RowHashes
        it.foreach { b =>
          val leafOf = route.of(b.bytes)
          if (leafOf.length != b.rowKeys.length)
            throw new IllegalStateException(s"a training block has ${leafOf.length} rows but ${b.rowKeys.length} row keys")
          var i = 0
          while (i < leafOf.length) {
            val leaf = leafOf(i)
            hasher.add(rows, b.rowKeys(i), armOf(leaf), scoresOf(leaf))
            i += 1
          }
        }
        Iterator.single(rows)
      }.fold(new Signatures.RowHashes)(_ merge _)
    } finally payload.destroy()
  }
}

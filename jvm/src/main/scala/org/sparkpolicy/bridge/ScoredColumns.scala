package org.sparkpolicy.bridge

/**
 * The scorer's reply, column by column, in arrays a task reuses: `NativeLib.scoreInto` writes each batch into
 * them from a given row (native/core/src/reply.rs, `ScoreColumns`), one JNI array copy per column and no IPC.
 * Each row's arm (`action(r)`) and, for a tree, its leaf id (`leaf(r)`; scores: the leaf's, in `LeafScores`); for
 * a forest of `nTrees` trees (`leaf` null), its K mean scores (`scores(r * K + a)`) and, unless the query does
 * not read them (`leaves` null), each tree's leaf (`leaves(r * nTrees + t)`).
 */
private[sparkpolicy] final class ScoredColumns private (val nTrees: Int, val action: Array[Int], val leaf: Array[Int],
    val scores: Array[Double], val leaves: Array[Int]) {
  /** The rows there is room for. */
  def capacity: Int = action.length
}

private[sparkpolicy] object ScoredColumns {
  /** Room for `rows` rows of `p`'s replies; a forest's leaves only `withLeaves`. */
  def allocate(p: ScoringPayload, rows: Int, withLeaves: Boolean): ScoredColumns =
    if (p.forest) new ScoredColumns(p.nTrees, new Array[Int](rows), null, new Array[Double](Math.multiplyExact(rows, p.nArms)),
      if (withLeaves) new Array[Int](Math.multiplyExact(rows, p.nTrees)) else null)
    else new ScoredColumns(0, new Array[Int](rows), new Array[Int](rows), null, null)
}

package org.sparkpolicy.score

import org.apache.spark.sql.types.{DoubleType, IntegerType}
import org.apache.spark.sql.vectorized.{ColumnVector, ColumnarBatch}
import org.sparkpolicy.bridge.{ScoringPayload, TaskScorer}

/**
 * Scoring of columnar batches (e.g. Parquet's vectorized reader): each feature column goes to the
 * Arrow batch with one bulk copy, and the outputs are four more column vectors appended to the input
 * batch (a forest's: per-row scores and leaves), so no row is built here. Spark's generated ColumnarToRow code then reads input and outputs
 * alike. Used by `PolicyScoringExec` when the input is columnar and every feature is a double.
 */
private[sparkpolicy] object ColumnarScorer {

  /**
   * Scores each batch in chunks of at most `batchRows`, the native scorer writing each chunk's replies straight into
   * the arrays the output vectors read (`ScoredColumns`, grown when a batch is larger). The input batch's vectors
   * are passed on, not copied: the reader reuses them for its next batch, which it reads only once this one is
   * consumed. A forest's `policy_leaves` are computed only `withLeaves`. The scorer closes at task end.
   */
  def score(batches: Iterator[ColumnarBatch], p: ScoringPayload, vocabulary: Array[String], ordinals: Array[Int],
      batchRows: Int, withLeaves: Boolean = true): Iterator[ColumnarBatch] = {
    if (!batches.hasNext) return Iterator.empty
    val scorer = new TaskScorer(p, batchRows)
    var cols = scorer.columns(0, withLeaves)
    val arms = new IntsVector
    val leaves = new IntsVector
    val (k, trees) = (p.nArms, p.nTrees)
    val rowScores = new RowListVector(DoubleType, k)
    val rowLeaves = new RowListVector(IntegerType, trees)
    val outputs = Array[ColumnVector](new ArmLabelVector(vocabulary, arms), arms,
      if (p.forest) rowScores else new LeafScoresVector(scorer.leafScores, leaves), if (p.forest) rowLeaves else leaves)
      .take(if (p.forest && !withLeaves) 3 else 4)
    batches.map { batch =>
      val n = batch.numRows()
      if (cols.capacity < n) {
        cols = scorer.columns(n, withLeaves)
        arms.values = cols.action
        leaves.values = cols.leaf
        rowScores.doubles = cols.scores
        rowLeaves.ints = cols.leaves
      }
      var start = 0
      while (start < n) {
        val count = math.min(batchRows, n - start)
        var f = 0
        while (f < ordinals.length) {
          scorer.putVector(f, batch.column(ordinals(f)), start, count)
          f += 1
        }
        scorer.endRows(count)
        scorer.scoreInto(cols, start)
        start += count
      }
      new ColumnarBatch(Array.tabulate(batch.numCols())(batch.column) ++ outputs, n)
    }
  }
}

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
   * Scores each batch in chunks of at most `batchRows`. The input batch's vectors are passed on, not
   * copied: the reader reuses them for its next batch, which it reads only once this one is consumed.
   * The scorer closes at task end.
   */
  def score(batches: Iterator[ColumnarBatch], p: ScoringPayload, vocabulary: Array[String], ordinals: Array[Int],
      batchRows: Int): Iterator[ColumnarBatch] = {
    if (!batches.hasNext) return Iterator.empty
    val scorer = new TaskScorer(p, batchRows)
    val arms = new IntsVector
    val leaves = new IntsVector
    val (k, trees) = (p.nArms, p.nTrees)
    val rowScores = new RowListVector(DoubleType, k)
    val rowLeaves = new RowListVector(IntegerType, trees)
    val outputs = Array[ColumnVector](new ArmLabelVector(vocabulary, arms), arms,
      if (p.forest) rowScores else new LeafScoresVector(scorer.leafScores, leaves), if (p.forest) rowLeaves else leaves)
    batches.map { batch =>
      val n = batch.numRows()
      if (arms.values.length < n) {
        arms.values = new Array[Int](n)
        if (p.forest) {
          rowScores.doubles = new Array[Double](n * k)
          rowLeaves.ints = new Array[Int](n * trees)
        } else leaves.values = new Array[Int](n)
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
        val scored = scorer.score()
        System.arraycopy(scored.action, 0, arms.values, start, count)
        if (p.forest) {
          System.arraycopy(scored.scores, 0, rowScores.doubles, start * k, count * k)
          System.arraycopy(scored.leaves, 0, rowLeaves.ints, start * trees, count * trees)
        } else System.arraycopy(scored.leaf, 0, leaves.values, start, count)
        start += count
      }
      new ColumnarBatch(Array.tabulate(batch.numCols())(batch.column) ++ outputs, n)
    }
  }
}

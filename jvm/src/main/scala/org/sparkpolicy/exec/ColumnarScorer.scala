package org.sparkpolicy.exec

import org.apache.spark.sql.DataFrame
import org.apache.spark.sql.catalyst.InternalRow
import org.apache.spark.sql.catalyst.expressions.JoinedRow
import org.apache.spark.sql.execution.{ColumnarToRowExec, SparkPlan, WholeStageCodegenExec}
import org.apache.spark.sql.vectorized.ColumnarBatch

/**
 * Scoring straight from a columnar scan (e.g. Parquet's vectorized reader): each feature column goes
 * to the Arrow batch with one bulk copy, and rows are never materialized before scoring. Used when the
 * input plan is nothing but a columnar scan turned into rows and every feature is a double; anything
 * else takes the row path (`PartitionScorer.scoreInternal`), which gives the same values.
 */
private[sparkpolicy] object ColumnarScorer {

  /** The columnar plan whose batches hold `df`'s rows in `df`'s column order, if `df` is just that. */
  def columnarInput(df: DataFrame): Option[SparkPlan] = {
    val rows = df.queryExecution.executedPlan match {
      case w: WholeStageCodegenExec => w.child
      case other => other
    }
    rows match {
      case c: ColumnarToRowExec if c.child.supportsColumnar && c.child.output.map(_.name) == df.schema.fieldNames.toSeq => Some(c.child)
      case _ => None
    }
  }

  /**
   * Scores each batch in chunks of at most `batchRows`, then emits its rows joined with the outputs
   * before the next batch is read: the reader reuses (and at the end frees) its vectors, so nothing may
   * even ask `batches.hasNext` while a batch's rows are out. The scorer closes at task end.
   */
  def score(batches: Iterator[ColumnarBatch], p: ScoringPayload, vocabulary: Array[String], ordinals: Array[Int],
      batchRows: Int): Iterator[InternalRow] = {
    if (!batches.hasNext) return Iterator.empty
    val scorer = new TaskScorer(p, batchRows)
    val outputs = new ScoredOutputs(vocabulary, p.nArms)
    val joined = new JoinedRow()
    batches.flatMap { batch =>
      val n = batch.numRows()
      Iterator.range(0, n, batchRows).flatMap { start =>
        val count = math.min(batchRows, n - start)
        var f = 0
        while (f < ordinals.length) {
          val v = batch.column(ordinals(f))
          scorer.putColumn(f, v.getDoubles(start, count), i => v.isNullAt(start + i), v.hasNull, count)
          f += 1
        }
        scorer.endRows(count)
        val scored = scorer.score()
        Iterator.range(0, count).map(i => joined(batch.getRow(start + i), outputs(scored, i)))
      }
    }
  }
}

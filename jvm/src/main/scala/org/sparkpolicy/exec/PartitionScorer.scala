package org.sparkpolicy.exec

import org.apache.spark.sql.Row
import org.apache.spark.sql.catalyst.InternalRow
import org.apache.spark.sql.catalyst.expressions.{Expression, GenericInternalRow, GenericRow, JoinedRow, UnsafeArrayData, UnsafeProjection}
import org.apache.spark.unsafe.Platform
import org.apache.spark.unsafe.types.UTF8String
import org.sparkpolicy.NativeLib

/**
 * One task's native scorer: rows are pending into an Arrow batch of at most `batchRows` (never one
 * row at a time, never the whole partition) and scored in one native call. Closed at task end.
 */
private[sparkpolicy] final class TaskScorer(p: ScoringPayload, batchRows: Int) extends AutoCloseable {
  NativeLib.load()
  private val (scorer, closeScorer) = ScorerCache.openTaskScorer(p)
  private val writer = new DoubleBatchWriter(Seq.tabulate(p.nFeatures)(i => s"x$i"), batchRows)
  private val allocator = ArrowAllocator.child("sparkpolicy-scorer-reader")
  private var closed = false
  TaskResources.closeAtTaskEnd(this)

  @inline def set(feature: Int, value: Double): Unit = writer.set(feature, value)
  @inline def setMissing(feature: Int): Unit = writer.setNull(feature)
  @inline def endRow(): Unit = writer.endRow()

  /** Scores the rows written since the last call. */
  def score(): ScoredColumns = ScoredColumns.fromIpc(NativeLib.scoreBatch(scorer, writer.drainToIpc()), p.nArms, allocator)

  override def close(): Unit = if (!closed) {
    closed = true
    writer.close()
    allocator.close()
    closeScorer()
  }
}

/** Scores partitions, appending arm label, arm index, per-arm scores and leaf to each row. */
private[sparkpolicy] object PartitionScorer {

  /**
   * Batch path, in Catalyst's row format: `features` are the contract's feature columns cast to
   * double (Spark's own Cast, bound to the input row), evaluated per row; the input row is kept as it
   * is and joined with the four outputs, which the scan turns into an UnsafeRow.
   */
  def scoreInternal(rows: Iterator[InternalRow], p: ScoringPayload, vocabulary: Array[String], features: Seq[Expression],
      batchRows: Int): Iterator[InternalRow] = {
    if (!rows.hasNext) return Iterator.empty
    val scorer = new TaskScorer(p, batchRows)
    val toDoubles = UnsafeProjection.create(features)
    val labels = vocabulary.map(UTF8String.fromString)
    val pending = new Array[InternalRow](batchRows)
    val joined = new JoinedRow()
    val outputs = new GenericInternalRow(4)
    var scored: ScoredColumns = null
    var n = 0
    var cursor = 0

    def fill(): Unit = {
      n = 0
      cursor = 0
      while (n < batchRows && rows.hasNext) {
        // The upstream iterator reuses its row object; a batch must own its rows.
        val row = rows.next().copy()
        pending(n) = row
        val x = toDoubles(row)
        var i = 0
        while (i < p.nFeatures) {
          if (x.isNullAt(i)) scorer.setMissing(i) else scorer.set(i, x.getDouble(i))
          i += 1
        }
        scorer.endRow()
        n += 1
      }
      scored = scorer.score()
      if (!rows.hasNext) scorer.close()
    }

    new Iterator[InternalRow] {
      def hasNext: Boolean = cursor < n || rows.hasNext
      def next(): InternalRow = {
        if (cursor == n) fill()
        val i = cursor
        cursor += 1
        val arm = scored.action(i)
        outputs.update(0, labels(arm))
        outputs.setInt(1, arm)
        outputs.update(2, UnsafeArrayData.fromPrimitiveArray(scored.scores, Platform.DOUBLE_ARRAY_OFFSET + 8 * i * p.nArms, p.nArms, 8))
        outputs.setInt(3, scored.leaf(i))
        val row = pending(i)
        pending(i) = null
        joined(row, outputs)
      }
    }
  }

  /**
   * Row path, for streaming DataFrames (which have no RDD to score): `featureIdx` are the positions
   * of the double-cast features in each row; the first `keep` fields are output as they are.
   */
  def score(rows: Iterator[Row], p: ScoringPayload, vocabulary: Array[String], featureIdx: Array[Int], keep: Int, batchRows: Int): Iterator[Row] = {
    if (!rows.hasNext) return Iterator.empty
    val scorer = new TaskScorer(p, batchRows)
    rows.grouped(batchRows).flatMap { batch =>
      batch.foreach { row =>
        var i = 0
        while (i < featureIdx.length) {
          val c = featureIdx(i)
          if (row.isNullAt(c)) scorer.setMissing(i) else scorer.set(i, row.getDouble(c))
          i += 1
        }
        scorer.endRow()
      }
      val out = scorer.score()
      if (!rows.hasNext) scorer.close()
      batch.iterator.zipWithIndex.map { case (row, i) =>
        val values = new Array[Any](keep + 4)
        var c = 0
        while (c < keep) { values(c) = row.get(c); c += 1 }
        val arm = out.action(i)
        values(keep) = vocabulary(arm)
        values(keep + 1) = arm
        values(keep + 2) = scala.collection.immutable.ArraySeq.unsafeWrapArray(
          java.util.Arrays.copyOfRange(out.scores, i * p.nArms, (i + 1) * p.nArms))
        values(keep + 3) = out.leaf(i)
        new GenericRow(values): Row
      }
    }
  }
}

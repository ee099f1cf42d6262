package org.sparkpolicy.exec

import org.apache.spark.sql.Row
import org.apache.spark.sql.catalyst.expressions.GenericRow
import org.sparkpolicy.NativeLib

/**
 * Scores one partition: rows go to the native scorer in Arrow IPC batches of `batchRows`
 * (never one row at a time, never the whole partition), and come back as arm index, leaf and
 * scores, appended to each row with the arm's label.
 */
private[sparkpolicy] object PartitionScorer {

  /** `featureIdx` are the positions of the (double-cast) features in each row; the first `keep` fields are output as they are. */
  def score(rows: Iterator[Row], p: ScoringPayload, vocabulary: Array[String], featureIdx: Array[Int], keep: Int, batchRows: Int): Iterator[Row] = {
    if (!rows.hasNext) return Iterator.empty
    NativeLib.load()
    val (scorer, closeScorer) = ScorerCache.openTaskScorer(p)
    val writer = new DoubleBatchWriter(featureIdx.indices.map(i => s"x$i"), batchRows)
    val allocator = ArrowAllocator.child("sparkpolicy-scorer-reader")
    var closed = false
    def closeAll(): Unit = if (!closed) {
      closed = true
      writer.close()
      allocator.close()
      closeScorer()
    }
    TaskResources.closeAtTaskEnd(new AutoCloseable { def close(): Unit = closeAll() })

    rows.grouped(batchRows).flatMap { batch =>
      batch.foreach { row =>
        var i = 0
        while (i < featureIdx.length) {
          val c = featureIdx(i)
          if (row.isNullAt(c)) writer.setNull(i) else writer.set(i, row.getDouble(c))
          i += 1
        }
        writer.endRow()
      }
      val out = ScoredColumns.fromIpc(NativeLib.scoreBatch(scorer, writer.drainToIpc()), p.nArms, allocator)
      if (!rows.hasNext) closeAll()
      batch.iterator.zipWithIndex.map { case (row, i) =>
        val values = new Array[Any](keep + 4)
        var c = 0
        while (c < keep) { values(c) = row.get(c); c += 1 }
        val arm = out.action(i)
        values(keep) = vocabulary(arm)
        values(keep + 1) = arm
        // Wrap, don't copy: the scores slice is fresh per row already.
        values(keep + 2) = scala.collection.immutable.ArraySeq.unsafeWrapArray(
          java.util.Arrays.copyOfRange(out.scores, i * p.nArms, (i + 1) * p.nArms))
        values(keep + 3) = out.leaf(i)
        new GenericRow(values): Row
      }
    }
  }
}

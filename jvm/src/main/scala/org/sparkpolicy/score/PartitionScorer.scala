package org.sparkpolicy.score

import org.apache.spark.sql.Row
import org.apache.spark.sql.catalyst.InternalRow
import org.apache.spark.sql.catalyst.expressions.{Expression, GenericRow, JoinedRow, UnsafeProjection}
import org.slf4j.LoggerFactory
import org.sparkpolicy.bridge.{ScoredColumns, ScoringPayload, TaskScorer}

/** Scores partitions, appending arm label, arm index, per-arm scores and leaf (a forest: every tree's leaf) to each row. */
private[sparkpolicy] object PartitionScorer {
  private val log = LoggerFactory.getLogger(getClass)

  /** Counts a task's unseen labels once, at its end, in the transform's accumulator and the executor log. */
  private def reportUnseen(cat: CategoricalInputs, unseen: Long): Unit = if (unseen > 0 && cat.unseen != null) {
    cat.unseen.add(unseen)
    val ctx = org.apache.spark.TaskContext.get()
    val where = if (ctx == null) "" else s" (stage ${ctx.stageId()} partition ${ctx.partitionId()})"
    log.warn(s"scored $unseen categorical values unseen in training as missing$where")
  }

  /**
   * Batch path, in Catalyst's row format. Each feature is either a double column read in place
   * (`directOrdinal` ≥ 0) or, for other numeric types, Spark's own Cast to double bound to the input
   * row (`casts`, in feature order of the -1 entries), so scoring sees exactly the values training saw.
   * The input row is kept as it is and joined with the four outputs; the scan makes it an UnsafeRow.
   * Categorical features (`cat.slot(i)` ≥ 0) are read as labels and sent as their codes (unseen: missing).
   */
  def scoreInternal(rows: Iterator[InternalRow], p: ScoringPayload, vocabulary: Array[String], directOrdinal: Array[Int],
      casts: Seq[Expression], batchRows: Int, cat: CategoricalInputs = CategoricalInputs.Empty, withLeaves: Boolean = true): Iterator[InternalRow] = {
    if (!rows.hasNext) return Iterator.empty
    val scorer = new TaskScorer(p, batchRows)
    val toDoubles = if (casts.isEmpty) null else UnsafeProjection.create(casts)
    val toLabels = if (cat.isEmpty) null else UnsafeProjection.create(cat.labels)
    var unseen = 0L
    val nFeatures = p.nFeatures
    val pending = new BatchRows(batchRows)
    val joined = new JoinedRow()
    val outputs = new ScoredOutputs(vocabulary, scorer.leafScores, withLeaves)
    // Reused: a batch's rows are consumed before the next batch is scored.
    val scored: ScoredColumns = scorer.columns(batchRows, withLeaves)
    var n = 0
    var cursor = 0

    def fill(): Unit = {
      n = 0
      cursor = 0
      pending.clear()
      while (n < batchRows && rows.hasNext) {
        val row = pending.add(rows.next())
        val cast = if (toDoubles == null) null else toDoubles(row)
        val label = if (toLabels == null) null else toLabels(row)
        // One look at the null bits instead of one per feature, for the usual row without nulls.
        val mayBeNull = row.anyNull
        var i = 0
        var j = 0
        while (i < nFeatures) {
          val o = directOrdinal(i)
          val s = if (cat.isEmpty) -1 else cat.slot(i)
          if (s >= 0) {
            val code = if (label.isNullAt(s)) -2 else cat.codes(s).code(label.getUTF8String(s))
            if (code >= 0) scorer.set(i, code.toDouble)
            else {
              if (code == -1) unseen += 1
              scorer.setMissing(i)
            }
          } else if (o >= 0) {
            if (mayBeNull && row.isNullAt(o)) scorer.setMissing(i) else scorer.set(i, row.getDouble(o))
          } else {
            if (cast.isNullAt(j)) scorer.setMissing(i) else scorer.set(i, cast.getDouble(j))
            j += 1
          }
          i += 1
        }
        scorer.endRow()
        n += 1
      }
      scorer.scoreInto(scored, 0)
      if (!rows.hasNext) {
        scorer.close()
        reportUnseen(cat, unseen)
      }
    }

    new Iterator[InternalRow] {
      def hasNext: Boolean = cursor < n || rows.hasNext
      def next(): InternalRow = {
        if (cursor == n) fill()
        val i = cursor
        cursor += 1
        joined(pending(i), outputs(scored, i))
      }
    }
  }

  /**
   * Row path, for streaming DataFrames (which have no RDD to score): `featureIdx` are the positions
   * of the double-cast features in each row (categorical features, `cat.slot(i)` ≥ 0: their labels as
   * strings); the first `keep` fields are output as they are.
   */
  def score(rows: Iterator[Row], p: ScoringPayload, vocabulary: Array[String], featureIdx: Array[Int], keep: Int, batchRows: Int,
      cat: CategoricalInputs = CategoricalInputs.Empty): Iterator[Row] = {
    if (!rows.hasNext) return Iterator.empty
    val scorer = new TaskScorer(p, batchRows)
    var unseen = 0L
    rows.grouped(batchRows).flatMap { batch =>
      batch.foreach { row =>
        var i = 0
        while (i < featureIdx.length) {
          val c = featureIdx(i)
          val s = if (cat.isEmpty) -1 else cat.slot(i)
          if (row.isNullAt(c)) scorer.setMissing(i)
          else if (s >= 0) {
            val code = cat.codes(s).code(row.getString(c))
            if (code >= 0) scorer.set(i, code.toDouble) else { unseen += 1; scorer.setMissing(i) }
          } else scorer.set(i, row.getDouble(c))
          i += 1
        }
        scorer.endRow()
      }
      val out = scorer.score()
      if (!rows.hasNext) {
        scorer.close()
        reportUnseen(cat, unseen)
      }
      batch.iterator.zipWithIndex.map { case (row, i) =>
        val values = new Array[Any](keep + 4)
        var c = 0
        while (c < keep) { values(c) = row.get(c); c += 1 }
        val arm = out.action(i)
        values(keep) = vocabulary(arm)
        values(keep + 1) = arm
        if (p.forest) {
          val (k, t) = (p.nArms, p.nTrees)
          values(keep + 2) = scala.collection.immutable.ArraySeq.unsafeWrapArray(java.util.Arrays.copyOfRange(out.scores, i * k, (i + 1) * k))
          values(keep + 3) = scala.collection.immutable.ArraySeq.unsafeWrapArray(java.util.Arrays.copyOfRange(out.leaves, i * t, (i + 1) * t))
        } else {
          values(keep + 2) = scala.collection.immutable.ArraySeq.unsafeWrapArray(scorer.leafScores.scores(out.leaf(i)).clone())
          values(keep + 3) = out.leaf(i)
        }
        new GenericRow(values): Row
      }
    }
  }
}

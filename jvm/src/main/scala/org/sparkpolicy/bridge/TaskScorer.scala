package org.sparkpolicy.bridge

import org.apache.spark.sql.vectorized.ColumnVector

/**
 * One task's native scorer: rows are gathered into an Arrow batch of at most `batchRows` (never one
 * row at a time, never the whole partition) and scored in one native call. Closed at task end.
 */
private[sparkpolicy] final class TaskScorer(p: ScoringPayload, batchRows: Int) extends AutoCloseable {
  NativeLib.load()
  private val (scorer, closeScorer) = ScorerCache.openTaskScorer(p)
  private val writer = new DoubleBatchWriter(Seq.tabulate(p.nFeatures)(i => s"x$i"), batchRows)
  private val allocator = ArrowAllocator.child("sparkpolicy-scorer-reader")
  private var closed = false
  TaskResources.closeAtTaskEnd(this)
  /** A tree's leaves' scores, once per task: its replies carry only each row's arm and leaf (a forest's carry scores; null). */
  val leafScores: LeafScores = if (p.forest) null else LeafScores.fromIpc(NativeLib.scorerLeafTable(scorer), p.nArms, allocator)

  @inline def set(feature: Int, value: Double): Unit = writer.set(feature, value)
  @inline def setMissing(feature: Int): Unit = writer.setNull(feature)
  @inline def endRow(): Unit = writer.endRow()

  /** Rows `from until from + n` of one feature's column vector (see `DoubleBatchWriter.putVector`); then `endRows(n)`. */
  def putVector(feature: Int, vector: ColumnVector, from: Int, n: Int): Unit = writer.putVector(feature, vector, from, n)

  def endRows(n: Int): Unit = writer.endRows(n)

  /** Room for `rows` rows of replies, reused batch after batch; a forest's leaves only `withLeaves`. */
  def columns(rows: Int, withLeaves: Boolean = true): ScoredColumns = ScoredColumns.allocate(p, rows, withLeaves)

  /** Scores the rows written since the last call into `out` from row `at`; returns how many. */
  def scoreInto(out: ScoredColumns, at: Int): Int = scoreNative(drain(), out, at)

  /** Scores the rows written since the last call into new columns. */
  def score(): ScoredColumns = {
    val out = columns(writer.rowCount)
    scoreInto(out, 0)
    out
  }

  // The steps of `scoreInto` (timed apart by the scoring probe).
  private[bridge] def drain(): IpcBuffer = writer.drain()
  private[bridge] def scoreNative(ipc: IpcBuffer, out: ScoredColumns, at: Int): Int =
    NativeLib.scoreInto(scorer, ipc.bytes, ipc.length, at, out.action, out.leaf, out.scores, out.leaves)

  override def close(): Unit = if (!closed) {
    closed = true
    writer.close()
    allocator.close()
    closeScorer()
  }
}

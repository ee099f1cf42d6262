package org.sparkpolicy.exec

import org.apache.spark.sql.Row
import org.apache.spark.sql.catalyst.InternalRow
import org.apache.spark.sql.catalyst.expressions.{Expression, GenericRow, JoinedRow, SpecificInternalRow, UnsafeArrayData, UnsafeProjection, UnsafeRow}
import org.apache.spark.sql.types.{ArrayType, DoubleType, IntegerType, StringType}
import org.apache.spark.unsafe.Platform
import org.apache.spark.unsafe.types.UTF8String
import org.apache.spark.util.LongAccumulator
import org.slf4j.LoggerFactory
import org.sparkpolicy.NativeLib

/**
 * Label → code of one categorical feature at scoring. The hash map is built on first use, once per
 * deserialized copy (once per executor for a broadcast payload); labels it does not hold are unseen (−1).
 */
private[sparkpolicy] final class CategoryCodes(val labels: Array[String]) extends Serializable {
  @transient private lazy val byLabel: java.util.HashMap[UTF8String, Integer] = {
    val m = new java.util.HashMap[UTF8String, Integer](labels.length * 2)
    labels.indices.foreach(i => m.put(UTF8String.fromString(labels(i)), i))
    m
  }

  def code(label: UTF8String): Int = { val c = byLabel.get(label); if (c == null) -1 else c.intValue }

  def code(label: String): Int = code(UTF8String.fromString(label))
}

/**
 * The categorical features of a transform: `slot(f)` is feature f's index among them (−1: numeric),
 * `labels` their label expressions (string, or Spark's cast to string) bound to the input row, `codes`
 * their category codes. Unseen labels are scored as missing and added to `unseen`.
 */
private[sparkpolicy] final case class CategoricalInputs(slot: Array[Int], labels: Seq[Expression], codes: Array[CategoryCodes],
    unseen: LongAccumulator) {
  def isEmpty: Boolean = codes.isEmpty
}

private[sparkpolicy] object CategoricalInputs {
  val Empty: CategoricalInputs = CategoricalInputs(Array.empty, Nil, Array.empty, null)

  /** The categorical features of `spec` (none: `Empty`), their labels read by `labels` (in feature order). */
  def of(spec: ScoringSpec, labels: Seq[Expression]): CategoricalInputs = if (!spec.hasCategorical) Empty else {
    val slot = spec.categories.scanLeft(0)((k, c) => if (c.isDefined) k + 1 else k).zip(spec.categories).map {
      case (k, c) => if (c.isDefined) k else -1
    }
    CategoricalInputs(slot, labels, spec.categories.flatten.map(new CategoryCodes(_)), spec.unseen)
  }
}

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
  /** Each leaf's scores, once per task: the replies carry only each row's arm and leaf. */
  val leafScores: LeafScores = LeafScores.fromIpc(NativeLib.scorerLeafTable(scorer), p.nArms, allocator)

  @inline def set(feature: Int, value: Double): Unit = writer.set(feature, value)
  @inline def setMissing(feature: Int): Unit = writer.setNull(feature)
  @inline def endRow(): Unit = writer.endRow()

  /** `n` rows of one feature at once (see `DoubleBatchWriter.putColumn`); then `endRows(n)`. */
  def putColumn(feature: Int, values: Array[Double], missingAt: Int => Boolean, hasMissing: Boolean, n: Int): Unit =
    writer.putColumn(feature, values, missingAt, hasMissing, n)

  def endRows(n: Int): Unit = writer.endRows(n)

  /** Scores the rows written since the last call. */
  def score(): ScoredColumns = {
    val ipc = writer.drain()
    ScoredColumns.fromIpc(NativeLib.scoreBatch(scorer, ipc.bytes, ipc.length), allocator)
  }

  // The steps of `score`, apart, for bench.ScoringProbe.
  private[sparkpolicy] def drainForProbe(): IpcBuffer = writer.drain()
  private[sparkpolicy] def handleForProbe: Long = scorer
  private[sparkpolicy] def decodeForProbe(reply: Array[Byte]): ScoredColumns = ScoredColumns.fromIpc(reply, allocator)

  override def close(): Unit = if (!closed) {
    closed = true
    writer.close()
    allocator.close()
    closeScorer()
  }
}

/**
 * The rows of one batch, owned by the batch: the upstream iterator reuses its row object. Unsafe
 * rows are copied into one reused byte arena (no allocation per row); other rows are copied.
 */
private[sparkpolicy] final class BatchRows(capacity: Int) {
  private val rows = new Array[InternalRow](capacity)
  private val views = Array.fill[UnsafeRow](capacity)(null)
  private var arena = new Array[Byte](1 << 16)
  private var used = 0L
  private var size = 0

  def apply(i: Int): InternalRow = rows(i)

  def clear(): Unit = { size = 0; used = 0L }

  def add(row: InternalRow): InternalRow = {
    val owned = row match {
      case u: UnsafeRow =>
        val bytes = u.getSizeInBytes
        if (used + bytes > arena.length) {
          // Rows already added keep pointing at the old arena; new rows go to a fresh, larger one.
          arena = new Array[Byte](math.max(arena.length * 2, bytes * 2))
          used = 0L
        }
        val view = if (views(size) != null && views(size).numFields == u.numFields) views(size) else new UnsafeRow(u.numFields)
        views(size) = view
        u.writeToMemory(arena, Platform.BYTE_ARRAY_OFFSET + used)
        view.pointTo(arena, (Platform.BYTE_ARRAY_OFFSET + used), bytes)
        used += bytes
        view
      case other => other.copy()
    }
    rows(size) = owned
    size += 1
    owned
  }
}

/**
 * The four output columns of one scored row, in one reused typed row (a generic row would box every
 * int). A row's scores are its leaf's, so each leaf's array is built once and shared by its rows.
 */
private[sparkpolicy] final class ScoredOutputs(vocabulary: Array[String], table: LeafScores) {
  private val labels = vocabulary.map(UTF8String.fromString)
  private val row = new SpecificInternalRow(Seq(StringType, IntegerType, ArrayType(DoubleType, containsNull = false), IntegerType))
  private val leafScores = Array.tabulate(table.size)(leaf => if (table.has(leaf)) UnsafeArrayData.fromPrimitiveArray(table.scores(leaf)) else null)

  /** Row `i` of a scored batch. */
  def apply(scored: ScoredColumns, i: Int): InternalRow = {
    val arm = scored.action(i)
    val leaf = scored.leaf(i)
    row.update(0, labels(arm))
    row.setInt(1, arm)
    row.update(2, leafScores(leaf))
    row.setInt(3, leaf)
    row
  }
}

/** Scores partitions, appending arm label, arm index, per-arm scores and leaf to each row. */
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
      casts: Seq[Expression], batchRows: Int, cat: CategoricalInputs = CategoricalInputs.Empty): Iterator[InternalRow] = {
    if (!rows.hasNext) return Iterator.empty
    val scorer = new TaskScorer(p, batchRows)
    val toDoubles = if (casts.isEmpty) null else UnsafeProjection.create(casts)
    val toLabels = if (cat.isEmpty) null else UnsafeProjection.create(cat.labels)
    var unseen = 0L
    val nFeatures = p.nFeatures
    val pending = new BatchRows(batchRows)
    val joined = new JoinedRow()
    val outputs = new ScoredOutputs(vocabulary, scorer.leafScores)
    var scored: ScoredColumns = null
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
      scored = scorer.score()
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
        values(keep + 2) = scala.collection.immutable.ArraySeq.unsafeWrapArray(scorer.leafScores.scores(out.leaf(i)).clone())
        values(keep + 3) = out.leaf(i)
        new GenericRow(values): Row
      }
    }
  }
}

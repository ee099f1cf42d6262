package org.sparkpolicy.train

import org.apache.spark.sql.{Column, DataFrame}
import org.apache.spark.sql.catalyst.InternalRow
import org.apache.spark.sql.catalyst.expressions.UnsafeRow
import org.apache.spark.sql.functions.{lit, not}
import org.apache.spark.sql.types.{DoubleType, StringType}
import org.apache.spark.sql.vectorized.{ColumnarBatch, ColumnarBatchRow}
import org.apache.spark.storage.StorageLevel
import org.apache.spark.unsafe.types.UTF8String
import org.sparkpolicy.contract.RowHash

/** What a fit's first pass computes besides the checks: the input signature, and the boundary sample's candidates. */
private[sparkpolicy] final case class PassOptions(sampleSize: Option[Int] = None, signRows: Boolean = false)

/**
 * The first of a fit's two passes over its input rows, before anything data-dependent is decided: one
 * `mapPartitions` over Catalyst rows (outside Catalyst, like the old boundary sample: no wide SQL filter)
 * that gathers an [[InputSummary]] per task (counts, treatment and category labels, bad outcomes,
 * propensities and given rewards, |outcome| and |Γ| bounds, the input signature's hashes) and, when asked,
 * the task's [[SampleCandidates]]. The summaries are merged on the driver, where `TrainingData.prepare`
 * decides every error from them; the candidates stay persisted until the boundaries are placed.
 */
private[sparkpolicy] object InputPass extends Serializable { // its task closures call its methods
  /**
   * What a task reads from the pass frame, by column index: whether the row is kept, the treatment label,
   * outcome and propensity (typed nulls when absent), the given rewards and the features (a column used in
   * two roles is one frame column), then what only the hashes read.
   */
  private final case class Layout(label: Int, outcome: Int, propensity: Int, givenAt: Array[Int], featureAt: Array[Int],
      categorical: Array[Boolean], orders: Array[Array[String]], hasTreatment: Boolean, hasOutcome: Boolean,
      hasPropensity: Boolean, signRows: Boolean) {
    val nGiven: Int = givenAt.length
    val nFeatures: Int = categorical.length
    val numeric: Array[Int] = categorical.indices.filterNot(categorical).toArray
    def feature(f: Int): Int = featureAt(f)
  }

  /**
   * Runs the pass over `input`'s rows. `dropped`: the rows `handleInvalid = "skip"` drops (they count only
   * for the input signature). `given`: whether the reward columns are Γ (rewardType "given").
   */
  def run(input: DataFrame, spec: InputSpec, given: Boolean, dropped: Option[Column], categorical: Array[Boolean],
      options: PassOptions): (InputSummary, Option[BoundarySample]) = {
    val schema = input.schema
    val givenCols = if (given) spec.rewardCols.get.toSeq else Nil
    val nullDouble = lit(null).cast(DoubleType)
    val frame = new PassHashes.Frame(schema)
    frame.fixed(dropped.map(not).getOrElse(lit(true))) // column 0: Kept
    val Seq(label, outcome, propensity) = Seq((spec.treatmentCol, "string", lit(null).cast(StringType)),
      (spec.outcomeCol, "double", nullDouble), (spec.propensityCol, "double", nullDouble)).map { case (c, form, absent) =>
      c.fold(frame.fixed(absent))(frame.add(form, _))
    }
    val givenAt = givenCols.map(frame.add("double", _)).toArray
    val featureAt = spec.featureCols.zip(categorical).map { case (c, cat) => frame.add(if (cat) "string" else "double", c) }
    val hashes = PassHashes.plan(frame, schema, spec, categorical, options.signRows, options.sampleSize.isDefined)
    val layout = Layout(label, outcome, propensity, givenAt, featureAt, categorical,
      spec.featureCols.zip(categorical).map { case (c, cat) => if (cat) spec.categoryOrders.get(c).orNull else null },
      spec.treatmentCol.isDefined, spec.outcomeCol.isDefined, spec.propensityCol.isDefined, options.signRows)
    val sampleSize = options.sampleSize
    val collects = categorical.indices.map(f => categorical(f) && layout.orders(f) == null).toArray
    val nColumns = frame.columns.length
    val passFrame = input.select(frame.columns: _*)
    def summarize(batches: (((Array[InternalRow], Int) => Unit) => Unit)): Iterator[(InputSummary, SampleCandidates)] = {
      val summary = new InputSummary(layout.nGiven, collects)
      val sample = sampleSize.map(s => new SampleCandidates(layout.numeric.length, s))
      val given = layout.orders.map { o =>
        if (o == null) null else { val set = new java.util.HashSet[UTF8String](); o.foreach(c => set.add(UTF8String.fromString(c))); set }
      }
      // Each batch's rows are hashed a column at a time (`PassHashes`); the summary clones the labels it keeps.
      val (h1, h2, sampleHash) = (new Array[Long](HashBatchRows), new Array[Long](HashBatchRows), new Array[Long](HashBatchRows))
      batches { (batch, n) =>
        if (layout.signRows) hashes.sign(batch, n, h1, h2)
        if (sample.isDefined) hashes.sample(batch, n, sampleHash)
        var r = 0
        while (r < n) {
          if (layout.signRows) summary.signature.add(h1(r), h2(r))
          add(batch(r), layout, sampleHash(r), summary, sample.orNull, given)
          r += 1
        }
      }
      Iterator.single((summary, sample.map(_.finish()).orNull))
    }
    // The source's column vectors where its plan allows (`ColumnarInput`), else its rows.
    val tasks = ColumnarInput.batches(passFrame) match {
      case Some(vectors) => vectors.mapPartitions(it => summarize(each => vectorBatches(it, each)))
      case None => passFrame.queryExecution.toRdd.mapPartitions(it => summarize(each => rowBatches(it, nColumns, each)))
    }
    val zero = new InputSummary(layout.nGiven, collects)
    sampleSize match {
      case None => (tasks.map(_._1).fold(zero)(_ merge _), None)
      case Some(s) =>
        tasks.setName("sparkpolicy validation pass (boundary-sample candidates)").persist(StorageLevel.MEMORY_AND_DISK)
        val summary = try tasks.map(_._1).fold(zero)(_ merge _) catch { case e: Throwable => tasks.unpersist(blocking = false); throw e }
        (summary, Some(new BoundarySample(tasks, tasks.map(_._2), summary.rows, s, layout.nFeatures, layout.numeric)))
    }
  }

  /** Rows per hashing batch: enough independent rows to overlap the hash chains, few enough to stay in cache. */
  private val HashBatchRows = 256

  /**
   * Catalyst rows in hashing batches. The frame's rows are UnsafeRows, copied into reused slots (a slot's
   * buffer grows only for a longer row).
   */
  private def rowBatches(rows: Iterator[InternalRow], nColumns: Int, each: (Array[InternalRow], Int) => Unit): Unit = {
    val slots = Array.fill(HashBatchRows) {
      val slot = new UnsafeRow(nColumns)
      val fixed = UnsafeRow.calculateBitSetWidthInBytes(nColumns) + 8 * nColumns
      slot.pointTo(new Array[Byte](fixed), fixed) // copyFrom needs a slot backed by a byte array
      slot
    }
    val batch = new Array[InternalRow](HashBatchRows)
    var n = 0
    rows.foreach { row =>
      batch(n) = row match {
        case u: UnsafeRow => slots(n).copyFrom(u); slots(n)
        case other => other.copy()
      }
      n += 1
      if (n == HashBatchRows) { each(batch, n); n = 0 }
    }
    if (n > 0) each(batch, n)
  }

  /** Column batches in hashing batches: rows that read the batch's vectors in place, valid until the next batch. */
  private def vectorBatches(batches: Iterator[ColumnarBatch], each: (Array[InternalRow], Int) => Unit): Unit =
    batches.foreach { b =>
      val vectors = Array.tabulate(b.numCols())(b.column)
      val rows: Array[InternalRow] = Array.fill(HashBatchRows)(new ColumnarBatchRow(vectors))
      var start = 0
      while (start < b.numRows()) {
        val n = math.min(HashBatchRows, b.numRows() - start)
        var r = 0
        while (r < n) { rows(r).asInstanceOf[ColumnarBatchRow].rowId = start + r; r += 1 }
        each(rows, n)
        start += n
      }
    }

  private def isBad(y: Double): Boolean = y.isNaN || y.isInfinite

  /** One row (its signature hashes already added) into the task's summary and sample. */
  private def add(row: InternalRow, l: Layout, sampleHash: Long, s: InputSummary, sample: SampleCandidates,
      given: Array[java.util.HashSet[UTF8String]]): Unit = {
    if (!row.getBoolean(0)) { s.dropped += 1; return }
    s.rows += 1
    val yNull = !l.hasOutcome || row.isNullAt(l.outcome)
    val y = if (yNull) Double.NaN else row.getDouble(l.outcome)
    if (l.hasTreatment) {
      if (row.isNullAt(l.label)) s.nullLabels += 1
      else {
        val stats = s.labelStats(row.getUTF8String(l.label))
        if (stats != null) {
          stats.count += 1
          if (!yNull) { stats.maxAbsY = math.max(stats.maxAbsY, math.abs(y)); stats.sumAbsY += math.abs(y) }
        }
      }
    }
    if (l.hasOutcome) {
      if (yNull || isBad(y)) s.badOutcomes += 1
      if (!yNull) s.maxAbsOutcome = math.max(s.maxAbsOutcome, math.abs(y))
    }
    if (l.hasPropensity) {
      val pNull = row.isNullAt(l.propensity)
      val p = if (pNull) Double.NaN else row.getDouble(l.propensity)
      if (pNull || p.isNaN || p <= 0.0 || p > 1.0) s.badPropensities += 1
      // IPW with given propensities: Γ = y / p on the row's arm, where p > 0 (the SQL guard); null y is an error already.
      if (p > 0.0 && !yNull && l.hasTreatment && !row.isNullAt(l.label)) {
        val g = math.abs(y / p)
        s.maxAbsYOverP = math.max(s.maxAbsYOverP, g)
        s.sumAbsYOverP += g
      }
    }
    if (l.nGiven > 0) {
      var sumAbs = 0.0
      var complete = true
      var a = 0
      while (a < l.nGiven) {
        if (row.isNullAt(l.givenAt(a))) { s.badGiven(a) += 1; complete = false }
        else {
          val g = row.getDouble(l.givenAt(a))
          if (isBad(g)) s.badGiven(a) += 1
          s.maxAbsGiven(a) = math.max(s.maxAbsGiven(a), math.abs(g))
          sumAbs = if (a == 0) math.abs(g) else sumAbs + math.abs(g)
        }
        a += 1
      }
      if (complete) s.sumMeanAbsGiven += sumAbs / l.nGiven
    }
    var f = 0
    while (f < l.nFeatures) {
      if (l.categorical(f) && !row.isNullAt(l.feature(f))) {
        val label = row.getUTF8String(l.feature(f))
        if (given(f) == null) s.addCategory(f, label)
        else if (!given(f).contains(label)) s.noteUnknownCategory(f, label)
      }
      f += 1
    }
    if (sample != null) {
      val at = sample.offer(RowHash.unitOf(sampleHash))
      if (at >= 0) {
        var j = 0
        while (j < l.numeric.length) {
          val i = l.feature(l.numeric(j))
          sample.set(at + j, if (row.isNullAt(i)) Double.NaN else row.getDouble(i))
          j += 1
        }
      }
    }
  }
}

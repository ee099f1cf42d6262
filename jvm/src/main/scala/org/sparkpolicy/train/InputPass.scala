package org.sparkpolicy.train

import org.apache.spark.sql.{Column, DataFrame}
import org.apache.spark.sql.catalyst.InternalRow
import org.apache.spark.sql.functions.{lit, not}
import org.apache.spark.sql.types.{DoubleType, StringType}
import org.apache.spark.storage.StorageLevel
import org.apache.spark.unsafe.types.UTF8String
import org.sparkpolicy.contract.{RewardSpec, RowHash, Signatures}
import org.sparkpolicy.train.TrainingData.userCol

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
private[sparkpolicy] object InputPass {
  // The pass frame's fixed columns, then the given rewards, then the features.
  private val Kept = 0
  private val H1 = 1
  private val H2 = 2
  private val SampleHash = 3
  private val Label = 4
  private val Outcome = 5
  private val Propensity = 6
  private val Fixed = 7

  /** What a task reads from the pass frame. */
  private final case class Layout(nGiven: Int, categorical: Array[Boolean], orders: Array[Array[String]], hasTreatment: Boolean,
      hasOutcome: Boolean, hasPropensity: Boolean, signRows: Boolean) {
    val nFeatures: Int = categorical.length
    val numeric: Array[Int] = categorical.indices.filterNot(categorical).toArray
    def feature(f: Int): Int = Fixed + nGiven + f
  }

  /**
   * Runs the pass over `input`'s rows. `dropped`: the rows `handleInvalid = "skip"` drops (they count only
   * for the input signature). `given`: whether the reward columns are Γ (rewardType "given").
   */
  def run(input: DataFrame, spec: InputSpec, given: Boolean, dropped: Option[Column], categorical: Array[Boolean],
      options: PassOptions): (InputSummary, Option[BoundarySample]) = {
    val schema = input.schema
    val givenCols = if (given) spec.rewardCols.get.toSeq else Nil
    val (h1, h2) =
      if (!options.signRows) (lit(0L), lit(0L))
      else Signatures.inputHashes(spec.featureCols.toSeq, categorical.toSeq,
        RewardSpec("", spec.treatmentCol, spec.rewardCols.toSeq.flatten, spec.outcomeCol, spec.propensityCol))
    val nullDouble = lit(null).cast(DoubleType)
    val columns: Seq[Column] = Seq(
      dropped.map(not).getOrElse(lit(true)), h1, h2,
      RowHash.hash(RowHash.SampleSeed, TrainingData.sampleKey(spec)),
      spec.treatmentCol.map(t => userCol(t).cast(StringType)).getOrElse(lit(null).cast(StringType)),
      spec.outcomeCol.map(c => userCol(c).cast(DoubleType)).getOrElse(nullDouble),
      spec.propensityCol.map(c => userCol(c).cast(DoubleType)).getOrElse(nullDouble)) ++
      givenCols.map(c => userCol(c).cast(DoubleType)) ++
      spec.featureCols.toSeq.zip(categorical).map { case (c, cat) =>
        if (cat) Categories.label(userCol(c), schema(c).dataType) else userCol(c).cast(DoubleType)
      }
    val layout = Layout(givenCols.size, categorical,
      spec.featureCols.zip(categorical).map { case (c, cat) => if (cat) spec.categoryOrders.get(c).orNull else null },
      spec.treatmentCol.isDefined, spec.outcomeCol.isDefined, spec.propensityCol.isDefined, options.signRows)
    val sampleSize = options.sampleSize
    val collects = categorical.indices.map(f => categorical(f) && layout.orders(f) == null).toArray
    val tasks = input.select(columns: _*).queryExecution.toRdd.mapPartitions { rows =>
      val summary = new InputSummary(layout.nGiven, collects)
      val sample = sampleSize.map(s => new SampleCandidates(layout.numeric.length, s))
      val given = layout.orders.map { o =>
        if (o == null) null else { val set = new java.util.HashSet[UTF8String](); o.foreach(c => set.add(UTF8String.fromString(c))); set }
      }
      rows.foreach(row => add(row, layout, summary, sample.orNull, given))
      Iterator.single((summary, sample.map(_.finish()).orNull))
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

  private def isBad(y: Double): Boolean = y.isNaN || y.isInfinite

  /** One row into the task's summary and sample. */
  private def add(row: InternalRow, l: Layout, s: InputSummary, sample: SampleCandidates, given: Array[java.util.HashSet[UTF8String]]): Unit = {
    if (l.signRows) s.signature.add(row.getLong(H1), row.getLong(H2))
    if (!row.getBoolean(Kept)) { s.dropped += 1; return }
    s.rows += 1
    val yNull = !l.hasOutcome || row.isNullAt(Outcome)
    val y = if (yNull) Double.NaN else row.getDouble(Outcome)
    if (l.hasTreatment) {
      if (row.isNullAt(Label)) s.nullLabels += 1
      else {
        val stats = s.labelStats(row.getUTF8String(Label))
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
      val pNull = row.isNullAt(Propensity)
      val p = if (pNull) Double.NaN else row.getDouble(Propensity)
      if (pNull || p.isNaN || p <= 0.0 || p > 1.0) s.badPropensities += 1
      // IPW with given propensities: Γ = y / p on the row's arm, where p > 0 (the SQL guard); null y is an error already.
      if (p > 0.0 && !yNull && l.hasTreatment && !row.isNullAt(Label)) {
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
        if (row.isNullAt(Fixed + a)) { s.badGiven(a) += 1; complete = false }
        else {
          val g = row.getDouble(Fixed + a)
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
      val at = sample.offer(RowHash.unitOf(row.getLong(SampleHash)))
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

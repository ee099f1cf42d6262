package org.sparkpolicy.train

import org.apache.spark.unsafe.types.UTF8String
import org.sparkpolicy.contract.Signatures

/** One treatment label's rows (kept ones): their count and the |outcome| bounds IPW's shares need. */
private[sparkpolicy] final class LabelStats extends Serializable {
  var count = 0L
  var maxAbsY = 0.0
  var sumAbsY = 0.0

  def merge(o: LabelStats): LabelStats = { count += o.count; maxAbsY = math.max(maxAbsY, o.maxAbsY); sumAbsY += o.sumAbsY; this }
}

/**
 * What the validation pass (`InputPass`) learns of the input, in one task or merged: everything
 * `TrainingData.prepare` decides its errors and aggregates from, gathered without knowing the vocabulary,
 * the categories or the IPW shares yet. Over the kept rows (all rows but those `handleInvalid = "skip"`
 * drops), except the input signature's hashes, which cover every row. Merged exactly: counts and sets add,
 * maxima take the max; only the float sums behind the mean |Γ| (used for a warning) depend on the order.
 * Label and category sets are capped one past their limits, which is all the checks need to know.
 */
private[sparkpolicy] final class InputSummary(val nGiven: Int, collectsCategories: Array[Boolean]) extends Serializable {
  val nFeatures: Int = collectsCategories.length
  var rows = 0L
  var dropped = 0L
  val signature = new Signatures.RowHashes

  /** Treatment labels (kept rows); `nullLabels` rows have none. `labelOverflow`: labels were left out past MaxArms + 1 groups. */
  val labels = new java.util.HashMap[UTF8String, LabelStats]()
  var nullLabels = 0L
  var labelOverflow = false

  var badOutcomes = 0L
  var maxAbsOutcome = 0.0
  var badPropensities = 0L
  /** |y / p| over rows with a given propensity p > 0 (IPW with `propensityCol`). */
  var maxAbsYOverP = 0.0
  var sumAbsYOverP = 0.0

  /** Given reward columns: null/NaN/infinite counts, max |g| and Σ rows (Σ_a |g_a|) / K. */
  val badGiven = new Array[Long](nGiven)
  val maxAbsGiven = new Array[Double](nGiven)
  var sumMeanAbsGiven = 0.0

  /** Per feature: the labels of a categorical feature without a given order (else null), and the overflow flag. */
  val categories: Array[java.util.HashSet[UTF8String]] =
    collectsCategories.map(c => if (c) new java.util.HashSet[UTF8String]() else null)
  val categoryOverflow = new Array[Boolean](nFeatures)
  /** Per feature with a given category order: its smallest label outside the order, or null. */
  val unknownCategory: Array[String] = new Array(nFeatures)

  /** The label's stats, made on first sight while fewer than MaxArms + 1 label groups exist; null past that. */
  def labelStats(label: UTF8String): LabelStats = {
    val s = labels.get(label)
    if (s != null || labelOverflow) s
    else if (labelGroups >= TrainingData.MaxArms + 1) { labelOverflow = true; null }
    else { val fresh = new LabelStats; labels.put(label.clone(), fresh); fresh }
  }

  /** Groups `groupBy(treatment)` would see: each label, and null. */
  def labelGroups: Int = labels.size + (if (nullLabels > 0) 1 else 0)

  /** More than MaxArms label groups: today's "is it really the treatment?" error. */
  def tooManyLabels: Boolean = labelOverflow || labelGroups > TrainingData.MaxArms

  /** More categories than a feature's codes can hold. */
  def tooManyCategories(f: Int): Boolean = categoryOverflow(f) || (categories(f) != null && categories(f).size > Categories.MaxCategories)

  def addCategory(f: Int, label: UTF8String): Unit = {
    val set = categories(f)
    if (!set.contains(label)) {
      if (set.size > Categories.MaxCategories) categoryOverflow(f) = true else set.add(label.clone())
    }
  }

  def noteUnknownCategory(f: Int, label: UTF8String): Unit = {
    val s = label.toString
    if (unknownCategory(f) == null || s < unknownCategory(f)) unknownCategory(f) = s
  }

  /** Adds `o` into this summary and returns it. */
  def merge(o: InputSummary): InputSummary = {
    rows += o.rows; dropped += o.dropped; signature.merge(o.signature)
    o.labels.forEach { (label, stats) =>
      val mine = labels.get(label)
      if (mine != null) mine.merge(stats)
      else if (labelGroups >= TrainingData.MaxArms + 1) labelOverflow = true
      else labels.put(label, new LabelStats().merge(stats))
    }
    nullLabels += o.nullLabels
    labelOverflow ||= o.labelOverflow
    badOutcomes += o.badOutcomes; maxAbsOutcome = math.max(maxAbsOutcome, o.maxAbsOutcome)
    badPropensities += o.badPropensities
    maxAbsYOverP = math.max(maxAbsYOverP, o.maxAbsYOverP); sumAbsYOverP += o.sumAbsYOverP
    (0 until nGiven).foreach { a => badGiven(a) += o.badGiven(a); maxAbsGiven(a) = math.max(maxAbsGiven(a), o.maxAbsGiven(a)) }
    sumMeanAbsGiven += o.sumMeanAbsGiven
    (0 until nFeatures).foreach { f =>
      if (o.categories(f) != null) o.categories(f).forEach(l => addCategory(f, l))
      categoryOverflow(f) ||= o.categoryOverflow(f)
      if (o.unknownCategory(f) != null) noteUnknownCategory(f, UTF8String.fromString(o.unknownCategory(f)))
    }
    this
  }

  /** The observed labels and their row counts, as strings. */
  def labelCounts: Map[String, Long] = {
    val b = Map.newBuilder[String, Long]
    labels.forEach((l, s) => b += l.toString -> s.count)
    b.result()
  }

  def label(name: String): Option[LabelStats] = Option(labels.get(UTF8String.fromString(name)))

  /** A categorical feature's observed labels (without a given order). */
  def categoryLabels(f: Int): Array[String] = {
    val b = Array.newBuilder[String]
    if (categories(f) != null) categories(f).forEach(l => b += l.toString)
    b.result()
  }
}

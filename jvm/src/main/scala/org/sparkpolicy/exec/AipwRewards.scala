package org.sparkpolicy.exec

import org.apache.spark.sql.{DataFrame, Encoders, Row}
import org.apache.spark.sql.functions._
import org.apache.spark.sql.types._
import org.slf4j.LoggerFactory
import org.sparkpolicy.NativeLib

/**
 * The AIPW score of one row, for every arm a:
 *   Γ(a) = μ̂_a(X) + 1{W=a}·(Y − μ̂_a(X)) / ê(X),
 * where μ̂ comes from the outcome model of the row's fold (never one that saw the row) and ê is the
 * probability of the received arm — given (`propensityCol`), the design share of the arm, or the
 * arm's share in the fold tree's leaf — clipped to [propensityFloor, 1]. Used by the Spark path and
 * by the in-process path alike, so both compute the same bits.
 */
private[sparkpolicy] final case class AipwScorer(arms: Int, floor: Double, propensity: String, shares: Array[Double], trees: Array[NodeTable]) {

  /** Writes Γ into `out` and returns whether the propensity was clipped up to the floor. */
  def scoreWith(mu: Int => Double, arm: Int, y: Double, e: Double, out: Array[Double]): Boolean = {
    val clipped = !(e >= floor)
    val p = if (clipped) floor else math.min(e, 1.0)
    var a = 0
    while (a < arms) {
      val m = mu(a)
      out(a) = if (a == arm) m + (y - m) / p else m
      a += 1
    }
    clipped
  }

  /** Γ of a row from the fold trees: `x(f)` reads feature f (NaN = missing), `eGiven` is NaN unless a column gives it. */
  def score(x: Int => Double, fold: Int, arm: Int, y: Double, eGiven: Double, out: Array[Double]): Boolean = {
    val leaf = trees(fold).leafOf(x)
    scoreWith(leaf.values, arm, y, propensityOf(leaf, arm, eGiven), out)
  }

  def propensityOf(leaf: TreeNode, arm: Int, eGiven: Double): Double = propensity match {
    case "column" => eGiven
    case "shares" => shares(arm)
    case "tree" => leaf.values(arms + arm)
  }
}

private[sparkpolicy] object AipwRewards {
  private val log = LoggerFactory.getLogger(getClass)

  val ArmName = "__sp_arm"
  val OutcomeName = "__sp_y"
  val PropensityName = "__sp_e"
  val FoldName = "__sp_fold"
  val ClippedName = "__sp_clipped"
  def muName(a: Int): String = s"__sp_mu$a"

  /**
   * Appends Γ_0..Γ_{A−1} (named `rewardName(a)`) and a `clipped` flag to `base`, which holds the features
   * (`featureName(f)`, doubles, null = missing), the arm index, outcome, propensity and fold, and — when
   * an external outcome model was used — `muName(a)` columns. Row by row on executors, in any layout.
   */
  def attach(base: DataFrame, nFeatures: Int, scorer: AipwScorer, externalMu: Boolean): DataFrame = {
    val schema = base.schema
    val featureIdx = Array.tabulate(nFeatures)(f => schema.fieldIndex(TrainingData.featureName(f)))
    val Seq(armIdx, yIdx, eIdx, foldIdx) = Seq(ArmName, OutcomeName, PropensityName, FoldName).map(schema.fieldIndex)
    val muIdx = if (externalMu) Array.tabulate(scorer.arms)(a => schema.fieldIndex(muName(a))) else Array.empty[Int]
    val out = StructType(schema.fields ++ (0 until scorer.arms).map(a => StructField(TrainingData.rewardName(a), DoubleType, nullable = false)) :+
      StructField(ClippedName, BooleanType, nullable = false))
    base.mapPartitions { rows =>
      rows.map { r =>
        val g = new Array[Double](scorer.arms)
        val x = (f: Int) => { val i = featureIdx(f); if (r.isNullAt(i)) Double.NaN else r.getDouble(i) }
        val arm = r.getInt(armIdx)
        val eGiven = if (r.isNullAt(eIdx)) Double.NaN else r.getDouble(eIdx)
        val clipped =
          if (externalMu) {
            val leaf = if (scorer.propensity == "tree") scorer.trees(r.getInt(foldIdx)).leafOf(x) else null
            scorer.scoreWith(a => r.getDouble(muIdx(a)), arm, r.getDouble(yIdx), scorer.propensityOf(leaf, arm, eGiven), g)
          } else scorer.score(x, r.getInt(foldIdx), arm, r.getDouble(yIdx), eGiven, g)
        Row.fromSeq(r.toSeq ++ g.toSeq :+ clipped)
      }
    }(Encoders.row(out))
  }

  /**
   * Cross-fits the nuisances on `data` (an AIPW TrainingData, before Γ) with the given boundaries and
   * returns its frame with Γ and the clipped flag appended, and the scorer (fold trees, propensities).
   */
  def crossFit(data: TrainingData, edges: Array[Array[Double]], settings: AipwSettings): (DataFrame, AipwScorer) = {
    val base = data.aipwBase.getOrElse(throw new IllegalStateException("crossFit needs AIPW training data"))
    val (nFeatures, arms) = (data.nFeatures, data.nArms)
    val sc = base.frame.sparkSession.sparkContext
    NativeLib.load()
    val externalMu = settings.outcomeModel.isDefined
    val trees =
      if (externalMu && base.propensity != "tree") Array.empty[NodeTable]
      else {
        val shift = NativeLib.rewardShift(data.nRows, base.maxAbsOutcome)
        val channels = CrossFitting.channelColumns(col(ArmName), col(OutcomeName), col(FoldName), arms)
        val frame = base.frame.select((0 until nFeatures).map(f => col(TrainingData.featureName(f))) ++ channels: _*)
        sc.setJobDescription("AIPW: binning the outcome-tree blocks")
        val blocks = BinnedBlocks.buildFrom(frame, nFeatures, 2 * arms + 1, edges, shift, Some(arms), "sparkpolicy outcome-tree blocks")
        try CrossFitting.fitTrees(blocks, arms, shift, edges, settings, data.categoricalFlags)
        finally { blocks.unpersist(blocking = false); sc.setJobDescription(null) }
      }
    val scorer = AipwScorer(arms, settings.propensityFloor, base.propensity, base.shares, trees)
    val withMu = settings.outcomeModel.map(m => ExternalOutcomeModel.predict(base.frame, m, nFeatures, arms, settings.folds))
    (attach(withMu.getOrElse(base.frame), nFeatures, scorer, externalMu), scorer)
  }

  /** AIPW training data: Γ attached, checked and measured in one pass, the frame cut to features, Γ and sample hash. */
  def training(data: TrainingData, edges: Array[Array[Double]], settings: AipwSettings): TrainingData = {
    val (scored, _) = crossFit(data, edges, settings)
    val k = data.nArms
    val g = (0 until k).map(a => col(TrainingData.rewardName(a)))
    val bad = g.map(c => isnan(c) || abs(c) === lit(Double.PositiveInfinity)).reduce(_ || _)
    val r = scored.agg(sum(when(bad, 1L).otherwise(0L)), greatest(g.map(c => max(abs(c))): _*),
      avg(g.map(abs).reduce(_ + _) / lit(k.toDouble)), sum(when(col(ClippedName), 1L).otherwise(0L))).head()
    def long(i: Int) = if (r.isNullAt(i)) 0L else r.getLong(i)
    if (long(0) > 0) throw new IllegalArgumentException(s"${long(0)} rows have a NaN or infinite AIPW reward; check the outcome's scale")
    val clipped = long(3)
    if (clipped > 0) log.info(s"AIPW: $clipped of ${data.nRows} propensities clipped up to propensityFloor ${settings.propensityFloor}")
    val frame = scored.select((0 until data.nFeatures).map(f => col(TrainingData.featureName(f))) ++ g :+ col(TrainingData.SampleHashName): _*)
    data.copy(frame = frame, maxAbsReward = if (r.isNullAt(1)) 0.0 else r.getDouble(1), meanAbsReward = if (r.isNullAt(2)) 0.0 else r.getDouble(2),
      clippedPropensities = clipped)
  }
}

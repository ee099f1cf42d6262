package org.sparkpolicy.rewards

import org.apache.spark.sql.DataFrame
import org.apache.spark.sql.catalyst.InternalRow
import org.apache.spark.sql.catalyst.expressions.{GenericInternalRow, JoinedRow}
import org.apache.spark.sql.sparkpolicy.InternalFrames
import org.apache.spark.sql.functions._
import org.apache.spark.sql.types._
import org.slf4j.LoggerFactory
import org.sparkpolicy.bridge.FixedPoint
import org.sparkpolicy.ml.model.NodeTable
import org.sparkpolicy.train.{AipwSettings, BinnedBlocks, SearchGrid, TrainingData, TreeSettings}

private[sparkpolicy] object AipwRewards {
  private val log = LoggerFactory.getLogger(getClass)

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
    val Seq(armIdx, yIdx, eIdx, foldIdx) = Seq(TrainingData.ArmName, TrainingData.OutcomeName, TrainingData.PropensityName, TrainingData.FoldName)
      .map(schema.fieldIndex)
    val muIdx = if (externalMu) Array.tabulate(scorer.arms)(a => schema.fieldIndex(muName(a))) else Array.empty[Int]
    val out = StructType(schema.fields ++ (0 until scorer.arms).map(a => StructField(TrainingData.rewardName(a), DoubleType, nullable = false)) :+
      StructField(ClippedName, BooleanType, nullable = false))
    // Catalyst rows in and out (the scorer's route): the input row joined with Γ and the flag, no `Row` conversion.
    val rows = base.queryExecution.toRdd.mapPartitions { rows =>
      val g = new Array[Double](scorer.arms)
      val extra = new GenericInternalRow(scorer.arms + 1)
      val joined = new JoinedRow()
      rows.map { r =>
        val x = (f: Int) => { val i = featureIdx(f); if (r.isNullAt(i)) Double.NaN else r.getDouble(i) }
        val arm = r.getInt(armIdx)
        val eGiven = if (r.isNullAt(eIdx)) Double.NaN else r.getDouble(eIdx)
        val clipped =
          if (externalMu) {
            val leaf = if (scorer.propensity == "tree") scorer.trees(r.getInt(foldIdx)).leafOf(x) else null
            scorer.scoreWith(a => r.getDouble(muIdx(a)), arm, r.getDouble(yIdx), scorer.propensityOf(leaf, arm, eGiven), g)
          } else scorer.score(x, r.getInt(foldIdx), arm, r.getDouble(yIdx), eGiven, g)
        var a = 0
        while (a < scorer.arms) { extra.setDouble(a, g(a)); a += 1 }
        extra.setBoolean(scorer.arms, clipped)
        joined(r, extra): InternalRow
      }
    }
    InternalFrames.fromInternalRows(base.sparkSession, rows, out)
  }

  /**
   * Cross-fits the nuisances on `data` (an AIPW TrainingData, before Γ) on the given search grid and
   * returns its frame with Γ and the clipped flag appended, and the scorer (fold trees, propensities).
   */
  def crossFit(data: TrainingData, grid: SearchGrid, settings: AipwSettings): (DataFrame, AipwScorer) = {
    val base = data.aipwBase.getOrElse(throw new IllegalStateException("crossFit needs AIPW training data"))
    val (nFeatures, arms) = (data.nFeatures, data.nArms)
    val sc = base.frame.sparkSession.sparkContext
    val externalMu = settings.outcomeModel.isDefined
    val trees =
      if (externalMu && base.propensity != "tree") Array.empty[NodeTable]
      else {
        val shift = FixedPoint.rewardShift(data.nRows, base.maxAbsOutcome)
        val channels = CrossFitting.channelColumns(col(TrainingData.ArmName), col(TrainingData.OutcomeName), col(TrainingData.FoldName), arms)
        val frame = base.frame.select((0 until nFeatures).map(f => col(TrainingData.featureName(f))) ++ channels: _*)
        sc.setJobDescription("AIPW: binning the outcome-tree blocks")
        val blocks = BinnedBlocks.buildFrom(frame, nFeatures, 2 * arms + 1, grid.edges, shift, Some(arms), "sparkpolicy outcome-tree blocks")
        try CrossFitting.fitTrees(blocks, arms, shift, grid, settings, data.categoricalFlags,
          TreeSettings.siblingSubtraction(base.frame.sparkSession))
        finally { blocks.unpersist(blocking = false); sc.setJobDescription(null) }
      }
    val scorer = AipwScorer(arms, settings.propensityFloor, base.propensity, base.shares, trees)
    val withMu = settings.outcomeModel.map(m => ExternalOutcomeModel.predict(base.frame, m, nFeatures, arms, settings.folds))
    (attach(withMu.getOrElse(base.frame), nFeatures, scorer, externalMu), scorer)
  }

  /**
   * AIPW training data: Γ attached, checked and measured in one pass, the frame cut to features, Γ, sample
   * hash and (when the data carries it) the row key.
   */
  def training(data: TrainingData, grid: SearchGrid, settings: AipwSettings): TrainingData = {
    val (scored, _) = crossFit(data, grid, settings)
    val k = data.nArms
    val g = (0 until k).map(a => col(TrainingData.rewardName(a)))
    val bad = g.map(c => isnan(c) || abs(c) === lit(Double.PositiveInfinity)).reduce(_ || _)
    val r = scored.agg(sum(when(bad, 1L).otherwise(0L)), greatest(g.map(c => max(abs(c))): _*),
      avg(g.map(abs).reduce(_ + _) / lit(k.toDouble)), sum(when(col(ClippedName), 1L).otherwise(0L))).head()
    def long(i: Int) = if (r.isNullAt(i)) 0L else r.getLong(i)
    if (long(0) > 0) throw new IllegalArgumentException(s"${long(0)} rows have a NaN or infinite AIPW reward; check the outcome's scale")
    val clipped = long(3)
    if (clipped > 0) log.info(s"AIPW: $clipped of ${data.nRows} propensities clipped up to propensityFloor ${settings.propensityFloor}")
    val rowKey = if (data.rowKeyed) Seq(col(TrainingData.RowKeyName)) else Nil
    val frame = scored.select(((0 until data.nFeatures).map(f => col(TrainingData.featureName(f))) ++ g :+ col(TrainingData.SampleHashName)) ++
      rowKey: _*)
    data.copy(frame = frame, maxAbsReward = if (r.isNullAt(1)) 0.0 else r.getDouble(1), meanAbsReward = if (r.isNullAt(2)) 0.0 else r.getDouble(2),
      clippedPropensities = clipped)
  }
}

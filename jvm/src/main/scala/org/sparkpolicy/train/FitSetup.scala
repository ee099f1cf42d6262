package org.sparkpolicy.train

import org.apache.spark.SparkContext
import org.apache.spark.rdd.RDD
import org.apache.spark.sql.DataFrame
import org.slf4j.LoggerFactory
import org.sparkpolicy.bridge.FixedPoint
import org.sparkpolicy.contract.{BoundaryRecipe, Contract, FeatureSpec, RewardSpec, RowHash}

/**
 * What every fit (a tree's, a forest's) does before its trees grow, in data-flow order: the validation pass,
 * which also signs the input and draws the boundary sample (TrainingData, InputPass) → boundaries placed on
 * executors (Boundaries) → the search grid → AIPW Γ when asked → the contract and the fixed-point shift. Then
 * `bin` reads the rows a second time into native blocks, which the levels read.
 */
private[sparkpolicy] final case class FitSetup(
    prepared: TrainingData,
    data: TrainingData,
    grid: SearchGrid,
    categorical: Array[Boolean],
    contract: Contract,
    shift: Int) {
  /**
   * The binning pass, timed as `binning`: the blocks (persisted; the caller unpersists), counted against the
   * validation pass. `rowHashChannel` adds each row's sample hash as a last channel (a forest's `RowSample`).
   */
  def bin(timer: PhaseTimer, rowHashChannel: Boolean = false): RDD[KeyedBlock] = {
    val keyed = BinnedBlocks.buildKeyed(data, grid.edges, shift, rowHashChannel)
    val binned = try timer("binning")(keyed.map(_.rowKeys.length.toLong).fold(0L)(_ + _))
    catch { case e: Throwable => keyed.unpersist(blocking = false); throw e }
    if (binned != data.nRows) {
      keyed.unpersist(blocking = false)
      throw new IllegalStateException(s"the binning pass saw $binned rows but the validation pass ${data.nRows}: the input " +
        "changed between the fit's passes; persist it or make it deterministic")
    }
    keyed
  }
}

private[sparkpolicy] object FitSetup {
  private val log = LoggerFactory.getLogger(getClass)

  def apply(df: DataFrame, spec: InputSpec, settings: TreeSettings, lockedBoundaries: Option[Array[Array[Double]]],
      aipwRewards: (TrainingData, SearchGrid, AipwSettings) => TrainingData, timer: PhaseTimer): FitSetup = {
    lockedBoundaries.foreach(b => Boundaries.validate(b, spec.featureCols))
    val sampled = lockedBoundaries.isEmpty && settings.boundaryStrategy == "exact"
    val prepared = timer("validate") {
      TrainingData.prepare(df, spec, options = PassOptions(if (sampled) Some(settings.sampleSize) else None, signRows = true))
    }
    // Exact thresholds: the fine edges are the sample's distinct values (up to SearchGrid.fineBins), searched
    // first on a coarse grid of maxBins; binned: the maxBins quantile edges are every candidate threshold.
    val valueBins = if (settings.refines) SearchGrid.fineBins(settings.maxBins, spec.featureCols.length) else settings.maxBins
    val placed = timer("boundaries")(lockedBoundaries.getOrElse(prepared.boundarySample match {
      case Some(sample) => Boundaries.fromSample(sample, valueBins)
      case None => Boundaries.approximate(prepared, settings.maxBins)
    }))
    val edges = Categories.withCodeEdges(placed, prepared.categories, spec.featureCols, lockedBoundaries.isDefined)
    val categorical = prepared.categoricalFlags
    val grid = if (settings.refines) SearchGrid(edges, settings.maxBins, categorical) else SearchGrid.binned(edges)
    // AIPW: the outcome models are cross-fitted on the same bins before Γ exists.
    val aipw = spec.aipw
    val data = if (prepared.rewardType == "aipw") timer("aipw")(aipwRewards(prepared, grid, aipw)) else prepared
    val contract = Contract(
      spec.featureCols.toSeq.zipWithIndex.map { case (c, f) =>
        val categories = prepared.categories(f).map(_.toSeq)
        FeatureSpec(c, df.schema(c).dataType.simpleString, if (categories.isDefined) Contract.Categorical else Contract.Numeric,
          Contract.MissingLearnedSide, categories)
      },
      data.vocabulary.toSeq,
      RewardSpec(data.rewardType, spec.treatmentCol, spec.rewardCols.map(_.toSeq).getOrElse(Nil), spec.outcomeCol, spec.propensityCol,
        data.aipwBase.map(b => aipw.spec(b.propensity))),
      // Locked boundaries do not depend on maxBins or the sample, so those stay out of the manifest.
      (if (lockedBoundaries.isDefined) BoundaryRecipe("locked", 0, 0, 0L, None)
      else BoundaryRecipe(settings.boundaryStrategy, settings.maxBins, settings.sampleSize, RowHash.SampleSeed, spec.rowIdCol))
        .copy(searchBins = if (settings.refines) settings.maxBins else 0),
      edges.map(_.toSeq).toSeq)
    val shift = FixedPoint.rewardShift(data.nRows, data.maxAbsReward)
    val resolution = math.pow(2.0, -shift)
    if (resolution > 1e-6 * data.meanAbsReward)
      log.warn(s"reward resolution 2^-$shift = $resolution is coarse next to the mean |reward| ${data.meanAbsReward}: " +
        s"max |reward| is ${data.maxAbsReward} over ${data.nRows} rows. An extreme reward (e.g. from a tiny propensity) " +
        "limits the precision of every sum; consider clipping propensities or rewards.")
    FitSetup(prepared, data, grid, categorical, contract, shift)
  }
}

/** A fit's wall-clock milliseconds per phase, in first-use order; each phase also names the fit's Spark jobs. */
private[sparkpolicy] final class PhaseTimer(sc: SparkContext, stage: String) {
  private val phases = scala.collection.mutable.LinkedHashMap.empty[String, Long]

  def apply[T](phase: String)(body: => T): T = {
    val started = System.nanoTime()
    sc.setJobDescription(s"$stage: $phase")
    try body finally phases(phase) = phases.getOrElse(phase, 0L) + (System.nanoTime() - started) / 1000000
  }

  def millis: Seq[(String, Long)] = phases.toSeq

  def get(phase: String): Option[Long] = phases.get(phase)
}

package org.sparkpolicy.train

import java.nio.ByteBuffer
import org.apache.spark.sql.DataFrame
import org.slf4j.LoggerFactory
import org.sparkpolicy.bridge.FixedPoint
import org.sparkpolicy.contract.{BoundaryRecipe, Contract, FeatureSpec, RewardSpec, RowHash, Signatures}
import org.sparkpolicy.ml.model.{LevelStats, SplitDecision}

/**
 * A fit, in data-flow order: the validation pass, which also signs the input and draws the boundary
 * sample (TrainingData, InputPass) → boundaries placed on executors (Boundaries) → bin once into native
 * blocks (BinnedBlocks) → per level, native histograms and executor-side split choice (LevelSearch) →
 * the driver's reducer (TreeGrower).
 */
private[sparkpolicy] object TreeTrainer {
  private val log = LoggerFactory.getLogger(getClass)

  /**
   * Fits a tree. `df` should be the persisted projection of the source columns (the learner passes
   * one), so every pass of the fit — validation (with the boundary sample and the input signature) and
   * binning — reads the same rows.
   * `aipwRewards` attaches cross-fitted AIPW Γ once the bins are known (`rewards.AipwRewards.training`):
   * training grows trees from Γ, and the rewards package supplies Γ, so this package never imports it.
   */
  def fit(df: DataFrame, spec: InputSpec, settings: TreeSettings, lockedBoundaries: Option[Array[Array[Double]]],
      aipwRewards: (TrainingData, Array[Array[Double]], AipwSettings) => TrainingData): TrainedTree = {
    val sc = df.sparkSession.sparkContext
    lockedBoundaries.foreach(b => Boundaries.validate(b, spec.featureCols))
    val sampled = lockedBoundaries.isEmpty && settings.boundaryStrategy == "exact"
    val prepared = TrainingData.prepare(df, spec, options = PassOptions(if (sampled) Some(settings.sampleSize) else None, signRows = true))
    val placed = lockedBoundaries.getOrElse(prepared.boundarySample match {
      case Some(sample) => Boundaries.fromSample(sample, settings.maxBins)
      case None => Boundaries.approximate(prepared, settings.maxBins)
    })
    val edges = Categories.withCodeEdges(placed, prepared.categories, spec.featureCols, lockedBoundaries.isDefined)
    val categorical = prepared.categoricalFlags
    // AIPW: the outcome models are cross-fitted on the same bins before Γ exists.
    val aipw = spec.aipw
    val data = if (prepared.rewardType == "aipw") aipwRewards(prepared, edges, aipw) else prepared
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
      if (lockedBoundaries.isDefined) BoundaryRecipe("locked", 0, 0, 0L, None)
      else BoundaryRecipe(settings.boundaryStrategy, settings.maxBins, settings.sampleSize, RowHash.SampleSeed, spec.rowIdCol),
      edges.map(_.toSeq).toSeq)
    val codesPerFeature = edges.map(_.length + 2)
    val shift = FixedPoint.rewardShift(data.nRows, data.maxAbsReward)
    val resolution = math.pow(2.0, -shift)
    if (resolution > 1e-6 * data.meanAbsReward)
      log.warn(s"reward resolution 2^-$shift = $resolution is coarse next to the mean |reward| ${data.meanAbsReward}: " +
        s"max |reward| is ${data.maxAbsReward} over ${data.nRows} rows. An extreme reward (e.g. from a tiny propensity) " +
        "limits the precision of every sum; consider clipping propensities or rewards.")
    val blocks = BinnedBlocks.build(data, edges, shift)
    val minKeys = sc.defaultParallelism
    try {
      val criterion = SplitCriterion.Policy(data.nArms, shift)
      val grower = new TreeGrower(criterion, settings.maxDepth, settings.minNodeSize, edges, categorical)
      var frontier = Array(1)
      var depth = 0
      val levels = Vector.newBuilder[LevelStats]
      while (frontier.nonEmpty && depth < settings.maxDepth) {
        val started = System.nanoTime()
        val plan = LevelPlan(frontier.length, codesPerFeature, data.nArms, settings.maxMemoryMB, minKeys)
        sc.setJobDescription(s"PolicyTreeLearner: level $depth histograms (${frontier.length} nodes, ${plan.featureBlocks.size} feature blocks)")
        val splitsBefore = grower.splitCount
        val peak = new MaxAccumulator
        sc.register(peak, s"sparkpolicy peak native bytes, level $depth")
        val records = LevelSearch.run(blocks, grower.trainingTable(), frontier, plan, codesPerFeature, data.nArms,
          settings.minNodeSize, settings.nativeThreads, depth, peak, categorical)
        val next = grower.applyLevel(frontier, records)
        val stats = LevelStats(depth, frontier.length, plan.featureBlocks.size, plan.nodeGroups.size, records.length,
          grower.splitCount - splitsBefore, (System.nanoTime() - started) / 1000000, peak.value)
        log.info(s"level ${stats.depth}: ${stats.frontierNodes} frontier nodes, ${stats.nodesSplit} split, " +
          s"${stats.recordsToDriver} split records to the driver, peak native ${stats.peakNativeBytesPerTask} bytes per task, " +
          s"${stats.millis} ms")
        levels += stats
        frontier = next
        depth += 1
      }
      TrainedTree(grower.result(), contract, data.rewardType, shift, data.nRows, levels.result(),
        grower.decisions.toVector, criterion.bestArm(grower.rootTotals)._1, prepared.inputSignature.get, data.droppedRows,
        data.clippedPropensities)
    } finally {
      sc.setJobDescription(null)
      blocks.unpersist(blocking = false)
    }
  }

  /** SHA-256 over the decision log's canonical bytes (ints and IEEE bits, in log order). */
  def decisionsSignature(decisions: Seq[SplitDecision]): String = {
    val buf = ByteBuffer.allocate(4 + decisions.size * 66)
    buf.putInt(decisions.size)
    decisions.foreach { d =>
      buf.putInt(d.depth).putInt(d.node).put((if (d.split) 1 else 0).toByte).putLong(d.rows).putInt(d.feature)
      buf.putLong(java.lang.Double.doubleToLongBits(d.threshold)).put((if (d.missingLeft) 1 else 0).toByte)
      buf.putLong(java.lang.Double.doubleToLongBits(d.gain)).putInt(d.runnerUpFeature)
      buf.putLong(java.lang.Double.doubleToLongBits(d.runnerUpThreshold)).putLong(java.lang.Double.doubleToLongBits(d.runnerUpGain))
    }
    Signatures.sha256Hex(java.util.Arrays.copyOf(buf.array(), buf.position()))
  }
}

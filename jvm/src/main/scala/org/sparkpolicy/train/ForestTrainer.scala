package org.sparkpolicy.train

import org.apache.spark.rdd.RDD
import org.apache.spark.sql.DataFrame
import org.slf4j.LoggerFactory
import org.sparkpolicy.bridge.NativeConfig.RowSample
import org.sparkpolicy.ml.model.{LevelStats, NodeTable, RefinementStats}

/**
 * A policy forest's fit: `FitSetup` (the validation pass, boundaries, contract) and one binning pass, as a
 * tree's, into blocks that also carry each row's sample hash; then every tree grows level by level in
 * lockstep, one collect-less `LevelSearch` pass per level for all the trees' frontiers (partials keyed by
 * tree, node and feature block). Tree t takes the rows its `RowSample` takes (a hash of the row's content
 * or `rowIdCol`, the seed and t) and splits each node on its `FeatureSubset`; an honest tree chooses its
 * splits on the structure half of its rows and then takes its leaf values from the estimation half, in
 * one more pass for all trees. With exact thresholds (a coarse grid) every level's bins that can reach a
 * node's coarse best are then refined at full resolution in one more pass for all trees
 * (`ThresholdRefinement.runAll`, partials keyed by tree, node and feature, each tree counting its own sampled
 * rows), as a tree's are; binned, the `maxBins` quantile
 * edges are every candidate.
 */
private[sparkpolicy] object ForestTrainer {
  private val log = LoggerFactory.getLogger(getClass)

  /** The phases a forest fit reports, in order (`aipw` for AIPW rewards, `estimation` for honest trees). */
  val Phases: Seq[String] = Seq("validate", "boundaries", "aipw", "binning", "levels", "estimation", "signatures")

  def fit(df: DataFrame, spec: InputSpec, settings: TreeSettings, forest: ForestSettings, lockedBoundaries: Option[Array[Array[Double]]],
      aipwRewards: (TrainingData, SearchGrid, AipwSettings) => TrainingData): TrainedForest = {
    require(settings.searchDepth == 1, "a forest grows greedy trees")
    val sc = df.sparkSession.sparkContext
    val timer = new PhaseTimer(sc, "PolicyForestLearner")
    try {
      val setup = FitSetup(df, spec, settings, lockedBoundaries, aipwRewards, timer)
      import setup.{data, grid, shift}
      val keyed = setup.bin(timer, rowHashChannel = true)
      try {
        val blocks = keyed.map(_.bytes)
        val criterion = SplitCriterion.Policy(data.nArms, shift)
        val growers = Vector.fill(forest.numTrees)(new TreeGrower(criterion, settings.maxDepth, settings.minNodeSize, grid.edges,
          setup.categorical))
        val subsetSize = FeatureSubset.count(forest.featureSubsetStrategy, data.nFeatures)
        val (levels, allRows) = timer("levels")(growAll(blocks, growers, data.nArms, grid, settings, forest, subsetSize, setup.categorical))
        val leafTotals =
          if (forest.honest) timer("estimation")(estimationTotals(blocks, growers, data.nArms, grid, settings, forest))
          else Vector.fill(growers.size)(Map.empty[Int, Array[Long]])
        val trees = growers.zip(leafTotals).map { case (g, t) => g.result(t) }
        val outputRows = timer("signatures")(ForestOutputSignature.hashes(keyed, trees, grid.fineCodes))
        log.info("forest fit phases: " + Phases.flatMap(p => timer.get(p).map(ms => s"$p $ms ms")).mkString(", ") +
          s" (${forest.numTrees} trees, ${data.nRows} rows)")
        TrainedForest(trees, growers.map(_.decisions.toVector), setup.contract, data.rewardType, shift, data.nRows, levels,
          setup.prepared.inputSignature.get, data.droppedRows, data.clippedPropensities, Some(outputRows), timer.millis, forest,
          subsetSize, growers.map(g => criterion.bestArm(g.rootTotals)._1), criterion.bestArm(allRows)._1)
      } finally keyed.unpersist(blocking = false)
    } finally sc.setJobDescription(null)
  }

  private def sample(forest: ForestSettings, tree: Int, half: String): RowSample =
    RowSample(forest.seed, tree, RowSample.threshold(forest.subsamplingRate), half)

  /**
   * Every tree's levels in lockstep (tree id = index), with sibling subtraction below the root as a tree's fit,
   * and on a coarse grid one refinement pass per level for every tree's winners (on each tree's search rows).
   * The root level also sums every training row (one more job, tree id T, taking all rows over one feature):
   * the totals of the forest's best constant arm. Returns the levels' stats and those totals.
   */
  private def growAll(blocks: RDD[Array[Byte]], growers: Vector[TreeGrower], nArms: Int, grid: SearchGrid, settings: TreeSettings,
      forest: ForestSettings, subsetSize: Int, categorical: Array[Boolean]): (Vector[LevelStats], Array[Long]) = {
    val sc = blocks.sparkContext
    val minKeys = sc.defaultParallelism
    // Coarse histograms carry bound cells (the bins to refine) unless only the winner's bins are, so plans budget for them.
    val bounds = grid.isCoarse && ThresholdRefinement.needsBounds(settings.refineBins)
    val planCodes = grid.codes.planCodes(bounds)
    val frontiers = Array.fill(growers.size)(Array(1))
    val plans = new Array[LevelPlan](growers.size)
    val half = if (forest.honest) RowSample.Structure else RowSample.All
    val levels = Vector.newBuilder[LevelStats]
    var parents: Option[LevelHistograms] = None
    var allRows: Array[Long] = null
    var depth = 0
    try {
      while (frontiers.exists(_.nonEmpty) && depth < settings.maxDepth) {
        val started = System.nanoTime()
        val splitsBefore = growers.map(_.splitCount).sum
        val growing = frontiers.indices.filter(frontiers(_).nonEmpty).toVector
        val subtract = settings.siblingSubtraction && parents.isDefined
        val jobs = growing.map { t =>
          val siblings = if (subtract) Some(SiblingPlan(frontiers(t), growers(t).rowsOf)) else None
          val plan = siblings match {
            case Some(s) => LevelPlan.withFeatureBlocks(s.built.length, plans(t).featureBlocks, planCodes, nArms, settings.maxMemoryMB)
            case None => LevelPlan(frontiers(t).length, planCodes, nArms, settings.maxMemoryMB, minKeys)
          }
          plans(t) = plan
          LevelJob(growers(t).trainingTable(), frontiers(t), plan, grid.codes, nArms, settings.minNodeSize, settings.nativeThreads,
            depth, categorical = categorical, siblings = siblings, treeId = t, rowSample = Some(sample(forest, t, half)),
            featureSubset = Some(FeatureSubset(forest.seed, t, grid.edges.length, subsetSize)).filter(_.count < grid.edges.length),
            bounds = bounds, refineLimit = settings.refineBins)
        }
        val rootOfAll = if (depth > 0) Nil else Seq(LevelJob(growers.head.trainingTable(), Array(1),
          LevelPlan(1, grid.histCodes.take(1), nArms, settings.maxMemoryMB), grid.codes, nArms, settings.minNodeSize,
          settings.nativeThreads, depth, treeId = growers.size,
          rowSample = Some(RowSample(forest.seed, growers.size, RowSample.AllRows, RowSample.All))))
        sc.setJobDescription(s"PolicyForestLearner: level $depth of ${jobs.size} trees (${jobs.map(_.frontier.length).sum} nodes, " +
          s"${jobs.map(_.kernelFrontier.length).sum} built)")
        val peak = new MaxAccumulator
        sc.register(peak, s"sparkpolicy peak native bytes, forest level $depth")
        val keep = settings.siblingSubtraction && depth + 1 < settings.maxDepth
        val result = LevelSearch.search(blocks, jobs ++ rootOfAll, peak, if (subtract) parents else None, keep)
        parents.foreach(_.release())
        parents = result.kept
        if (rootOfAll.nonEmpty) allRows = result.records.last.head.totals
        val choices = growing.zip(result.records).map { case (t, records) => growers(t).choose(frontiers(t), records) }
        val (refined, refinement) =
          if (!grid.isCoarse) (choices, RefinementStats.Empty)
          else ThresholdRefinement.runAll(blocks, growing.zip(jobs).zip(choices).map { case ((t, job), c) =>
            RefineJob(t, job.tree, frontiers(t), c, job.rowSample)
          }, grid, nArms, settings.minNodeSize, settings.maxMemoryMB, depth, "PolicyForestLearner", settings.refineBins)
        growing.zip(refined).foreach { case (t, c) => frontiers(t) = growers(t).applyChoices(c) }
        levels += LevelStats(depth, jobs.map(_.frontier.length).sum, jobs.map(_.plan.featureBlocks.size).max,
          jobs.map(_.plan.nodeGroups.size).max, result.records.map(_.length).sum, growers.map(_.splitCount).sum - splitsBefore,
          (System.nanoTime() - started) / 1000000, peak.value, result.nodesBuilt, result.nodesDerived, result.rowsHistogrammed)
          .withRefinement(refinement)
        depth += 1
      }
    } finally parents.foreach(_.release())
    (levels.result(), allRows)
  }

  /**
   * Honest trees' leaf totals from their estimation halves: one pass for every tree, each tree's leaves its
   * frontier over one feature (a histogram's node totals are its rows' sums). A leaf without estimation rows
   * is absent and keeps its structure rows' totals.
   */
  private def estimationTotals(blocks: RDD[Array[Byte]], growers: Vector[TreeGrower], nArms: Int, grid: SearchGrid,
      settings: TreeSettings, forest: ForestSettings): Vector[Map[Int, Array[Long]]] = {
    val jobs = growers.indices.toVector.map { t =>
      val table = growers(t).trainingTable()
      val leaves = table.leaves.map(_.id).sorted.toArray
      val plan = LevelPlan(leaves.length, grid.histCodes.take(1), nArms, settings.maxMemoryMB) // one block: feature 0
      LevelJob(table, leaves, plan, grid.codes, nArms, settings.minNodeSize, settings.nativeThreads, depth = settings.maxDepth,
        treeId = t, rowSample = Some(sample(forest, t, RowSample.Estimation)))
    }
    val sc = blocks.sparkContext
    sc.setJobDescription(s"PolicyForestLearner: leaf values of ${jobs.size} honest trees")
    val peak = new MaxAccumulator
    sc.register(peak, "sparkpolicy peak native bytes, forest leaf values")
    LevelSearch.search(blocks, jobs, peak, None, keep = false).records.map(_.iterator.map(r => r.nodeId -> r.totals).toMap)
  }
}

/** A forest's settings, resolved from the learner's Params. */
private[sparkpolicy] final case class ForestSettings(numTrees: Int, subsamplingRate: Double, featureSubsetStrategy: String,
    honest: Boolean, seed: Long)

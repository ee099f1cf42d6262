package org.sparkpolicy.train

import java.nio.ByteBuffer
import org.apache.spark.rdd.RDD
import org.apache.spark.sql.DataFrame
import org.slf4j.LoggerFactory
import org.sparkpolicy.contract.Signatures
import org.sparkpolicy.ml.model.{LevelStats, RefinementStats, SplitDecision}

/**
 * A fit, in data-flow order: the validation pass, which also signs the input and draws the boundary
 * sample (TrainingData, InputPass) → boundaries placed on executors (Boundaries) → bin once into native
 * blocks (BinnedBlocks) → per level, native histograms and executor-side split choice (LevelSearch) →
 * the driver's reducer (TreeGrower) → the training output signature from the blocks (OutputSignature).
 * The input rows are read twice (validation, binning; AIPW adds its own passes), the blocks by the rest.
 */
private[sparkpolicy] object TreeTrainer {
  private val log = LoggerFactory.getLogger(getClass)

  /** The phases a fit reports, in order (`aipw` only for AIPW rewards). */
  val Phases: Seq[String] = Seq("validate", "boundaries", "aipw", "binning", "levels", "signatures")

  /**
   * Fits a tree. `df` should be the persisted projection of the source columns (the learner passes
   * one), so both passes over the rows — validation and binning — read the same rows.
   * `aipwRewards` attaches cross-fitted AIPW Γ once the bins are known (`rewards.AipwRewards.training`):
   * training grows trees from Γ, and the rewards package supplies Γ, so this package never imports it.
   * The result's output signature covers the rows in the blocks; rows `handleInvalid = "skip"` dropped
   * (`droppedRows`) are left to the caller, which can score them (`outputRows`).
   */
  def fit(df: DataFrame, spec: InputSpec, settings: TreeSettings, lockedBoundaries: Option[Array[Array[Double]]],
      aipwRewards: (TrainingData, SearchGrid, AipwSettings) => TrainingData): TrainedTree = {
    val sc = df.sparkSession.sparkContext
    val timer = new PhaseTimer(sc, "PolicyTreeLearner")
    try {
      val setup = FitSetup(df, spec, settings, lockedBoundaries, aipwRewards, timer)
      import setup.{categorical, contract, data, grid, prepared, shift}
      val keyed = setup.bin(timer)
      try {
        val blocks = keyed.map(_.bytes)
        val criterion = SplitCriterion.Policy(data.nArms, shift)
        val grower = new TreeGrower(criterion, settings.maxDepth, settings.minNodeSize, grid.edges, categorical)
        val levels = timer("levels")(growLevels(blocks, grower, data.nArms, grid, settings, categorical))
        val tree = grower.result()
        val outputRows = timer("signatures")(OutputSignature.hashes(keyed, tree, grid.fineCodes))
        log.info("fit phases: " + Phases.flatMap(p => timer.get(p).map(ms => s"$p $ms ms")).mkString(", ") +
          s" (${data.nRows} rows; the input signature is taken in the validation pass)")
        TrainedTree(tree, contract, data.rewardType, shift, data.nRows, levels, grower.decisions.toVector,
          criterion.bestArm(grower.rootTotals)._1, prepared.inputSignature.get, data.droppedRows, data.clippedPropensities,
          Some(outputRows), timer.millis)
      } finally keyed.unpersist(blocking = false)
    } finally sc.setJobDescription(null)
  }

  /**
   * The level loop: per level one collect-less `LevelSearch` (or, with `searchDepth = 2` while two levels
   * remain, a `PairLevelSearch`), reduced by `grower`; on a coarse grid the coarse bins that can reach each
   * node's best are then refined at full resolution (`ThresholdRefinement`) before the splits are applied. With sibling subtraction
   * (`settings.siblingSubtraction`) a greedy level keeps its merged histograms on the executors when another
   * level follows, and that level builds only each split's smaller child (`SiblingPlan`); the root, and a
   * level after a two-level search level, build every node.
   */
  private def growLevels(blocks: RDD[Array[Byte]], grower: TreeGrower, nArms: Int, grid: SearchGrid, settings: TreeSettings,
      categorical: Array[Boolean]): Vector[LevelStats] = {
    val sc = blocks.sparkContext
    val minKeys = sc.defaultParallelism
    // Coarse histograms carry bound cells (the bins to refine) unless only the winner's bins are, so plans budget for them.
    val bounds = grid.isCoarse && ThresholdRefinement.needsBounds(settings.refineBins)
    val planCodes = grid.codes.planCodes(bounds)
    var frontier = Array(1)
    var depth = 0
    val levels = Vector.newBuilder[LevelStats]
    // The previous greedy level's merged histograms and plan, when the level at hand can subtract from them.
    var parents: Option[(LevelHistograms, LevelPlan)] = None
    try {
      while (frontier.nonEmpty && depth < settings.maxDepth) {
        val started = System.nanoTime()
        val splitsBefore = grower.splitCount
        val peak = new MaxAccumulator
        sc.register(peak, s"sparkpolicy peak native bytes, level $depth")
        val table = grower.trainingTable()
        val twoLevel = settings.searchDepth >= 2 && settings.maxDepth - depth >= 2
        val (records, featureBlocks, nodeGroups, work) =
          if (twoLevel) {
            val job = PairLevelJob.plan(table, frontier, grid.fineCodes, grid.cuts, nArms, settings.minNodeSize,
              settings.nativeThreads, depth, categorical, settings.maxMemoryMB, minKeys)
            sc.setJobDescription(s"PolicyTreeLearner: level $depth two-level search (${frontier.length} nodes, " +
              s"${job.plan.rootBlocks.size} root blocks)")
            (PairLevelSearch.run(blocks, job, peak), job.plan.rootBlocks.size, job.plan.nodeGroups.size, (frontier.length, 0, -1L))
          } else {
            // Below a greedy level whose histograms were kept: the smaller children only, in the parent's feature blocks.
            val siblings = parents.map(_ => SiblingPlan(frontier, grower.rowsOf))
            val plan = (parents, siblings) match {
              case (Some((_, parentPlan)), Some(s)) =>
                LevelPlan.withFeatureBlocks(s.built.length, parentPlan.featureBlocks, planCodes, nArms, settings.maxMemoryMB)
              case _ => LevelPlan(frontier.length, planCodes, nArms, settings.maxMemoryMB, minKeys)
            }
            val job = LevelJob(table, frontier, plan, grid.codes, nArms, settings.minNodeSize, settings.nativeThreads, depth,
              categorical = categorical, siblings = siblings, bounds = bounds, refineLimit = settings.refineBins)
            sc.setJobDescription(s"PolicyTreeLearner: level $depth histograms (${frontier.length} nodes, " +
              s"${job.kernelFrontier.length} built, ${plan.featureBlocks.size} feature blocks)")
            // Greedy levels follow greedy levels, so the next one can subtract whenever it exists.
            val keep = settings.siblingSubtraction && depth + 1 < settings.maxDepth
            val result = LevelSearch.search(blocks, Vector(job), peak, parents.map(_._1), keep)
            parents.foreach(_._1.release())
            parents = result.kept.map(_ -> plan)
            (result.records.head, plan.featureBlocks.size, plan.nodeGroups.size,
              (result.nodesBuilt, result.nodesDerived, result.rowsHistogrammed))
          }
        val choices = grower.choose(frontier, records)
        val (refined, refinement) =
          // A two-level split's reward is its subtree's: its root threshold stays on the coarse grid (docs/contract.md).
          if (!grid.isCoarse || twoLevel) (choices, RefinementStats.Empty)
          else ThresholdRefinement.run(blocks, table, frontier, choices, grid, nArms, settings.minNodeSize, settings.maxMemoryMB, depth,
            settings.refineBins)
        val next = grower.applyChoices(refined)
        val stats = LevelStats(depth, frontier.length, featureBlocks, nodeGroups, records.length,
          grower.splitCount - splitsBefore, (System.nanoTime() - started) / 1000000, peak.value, work._1, work._2, work._3)
          .withRefinement(refinement)
        log.info(s"level ${stats.depth}: ${stats.frontierNodes} frontier nodes (${stats.nodesBuilt} histograms built, " +
          s"${stats.nodesDerived} derived), ${stats.nodesSplit} split, ${stats.recordsToDriver} split records to the driver, " +
          s"peak native ${stats.peakNativeBytesPerTask} bytes per task, ${stats.millis} ms")
        levels += stats
        frontier = next
        depth += 1
      }
    } finally parents.foreach(_._1.release())
    levels.result()
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

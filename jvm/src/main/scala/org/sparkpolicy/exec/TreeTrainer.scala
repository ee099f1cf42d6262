package org.sparkpolicy.exec

import org.apache.spark.sql.DataFrame
import org.slf4j.LoggerFactory
import org.sparkpolicy.NativeLib

/** Tree-growing settings, resolved from the learner's Params. */
private[sparkpolicy] final case class TreeSettings(maxDepth: Int, minNodeSize: Int, maxBins: Int, maxMemoryMB: Int, sampleSize: Int)

/** Everything a fit produces besides the model's Params. */
private[sparkpolicy] final case class TrainedTree(
    tree: NodeTable,
    vocabulary: Array[String],
    rewardType: String,
    boundaries: Array[Array[Double]],
    rewardShift: Int,
    nRows: Long,
    levels: Vector[LevelStats],
    decisions: Vector[SplitDecision],
    bestArmOnTraining: Int)

/**
 * A fit, in data-flow order: validate and build Γ (TrainingData) → boundaries on executors
 * (Boundaries) → bin once into native blocks (BinnedBlocks) → per level, native histograms and
 * executor-side split choice (LevelSearch) → the driver's reducer (TreeGrower).
 */
private[sparkpolicy] object TreeTrainer {
  private val log = LoggerFactory.getLogger(getClass)

  def fit(df: DataFrame, spec: InputSpec, settings: TreeSettings, lockedBoundaries: Option[Array[Array[Double]]]): TrainedTree = {
    val sc = df.sparkSession.sparkContext
    NativeLib.load()
    val data = TrainingData.prepare(df, spec)
    val edges = lockedBoundaries match {
      case Some(b) =>
        if (b.length != data.nFeatures)
          throw new IllegalArgumentException(s"locked boundaries cover ${b.length} features but featureCols has ${data.nFeatures}")
        b
      case None => Boundaries.compute(data, settings.maxBins, settings.sampleSize)
    }
    val codesPerFeature = edges.map(_.length + 2)
    val shift = NativeLib.rewardShift(data.nRows, data.maxAbsReward)
    val blocks = BinnedBlocks.build(data, edges, shift)
    try {
      val grower = new TreeGrower(data.nArms, shift, settings.maxDepth, settings.minNodeSize, edges)
      var frontier = Array(1)
      var depth = 0
      val levels = Vector.newBuilder[LevelStats]
      while (frontier.nonEmpty && depth < settings.maxDepth) {
        val started = System.nanoTime()
        val plan = LevelPlan(frontier.length, codesPerFeature, data.nArms, settings.maxMemoryMB)
        sc.setJobDescription(s"PolicyTreeLearner: level $depth histograms (${frontier.length} nodes, ${plan.featureBlocks.size} feature blocks)")
        val splitsBefore = grower.splitCount
        val records = LevelSearch.run(blocks, grower.trainingTable(), frontier, plan, codesPerFeature, data.nArms, settings.minNodeSize)
        val next = grower.applyLevel(frontier, records)
        val stats = LevelStats(depth, frontier.length, plan.featureBlocks.size, plan.nodeGroups.size, records.length,
          grower.splitCount - splitsBefore, (System.nanoTime() - started) / 1000000)
        log.info(s"level ${stats.depth}: ${stats.frontierNodes} frontier nodes, ${stats.nodesSplit} split, " +
          s"${stats.recordsToDriver} split records to the driver, ${stats.millis} ms")
        levels += stats
        frontier = next
        depth += 1
      }
      sc.setJobDescription(null)
      TrainedTree(grower.result(), data.vocabulary, data.rewardType, edges, shift, data.nRows, levels.result(),
        grower.decisions.toVector, grower.rootBestArm)
    } finally blocks.unpersist(blocking = false)
  }
}

package org.sparkpolicy.train

import org.sparkpolicy.bridge.{HistogramLayout, NativeConfig, SplitRecord, SplitSearch}
import org.sparkpolicy.ml.model.NodeTable

/**
 * What one level's kernels and split searches need besides the blocks. The kernel routes rows on the
 * grid's fine codes and builds histograms on its histogram codes; split records come back with fine
 * thresholds (and, with `bounds`, the coarse bins whose fine thresholds could reach the best: `ThresholdRefinement`). `treeId` names the tree in a pass over several
 * (the AIPW fold, the forest tree), stable from level to level; `siblings`, when set, makes the level a
 * sibling-subtraction one. A forest tree's job has its `rowSample` (the kernel's rows) and `featureSubset`
 * (each node's features).
 */
private[sparkpolicy] final case class LevelJob(
    tree: NodeTable,
    frontier: Array[Int],
    plan: LevelPlan,
    grid: GridCodes,
    nChannels: Int,
    minNodeSize: Int,
    nativeThreads: Int,
    depth: Int,
    skipRows: Option[(Int, Long)] = None,
    outcomeArms: Int = 0,
    categorical: Array[Boolean] = Array.empty,
    siblings: Option[SiblingPlan] = None,
    treeId: Int = 0,
    rowSample: Option[NativeConfig.RowSample] = None,
    featureSubset: Option[FeatureSubset] = None,
    bounds: Boolean = false,
    refineLimit: Int = 0) {
  require(!bounds || (grid.isCoarse && outcomeArms == 0), "refinement bounds need a coarse grid and the policy criterion")
  /**
   * The nodes the kernel histograms: the frontier, or with sibling subtraction each pair's smaller child
   * (the plan's node groups are over these). Rows of every other leaf are skipped by the kernel's routing.
   */
  val kernelFrontier: Array[Int] = siblings.map(_.built).getOrElse(frontier)
  /** A built node's shuffle key: itself, or with sibling subtraction its parent (joined with the parent's histogram). */
  def keyOf(node: Int): Int = if (siblings.isDefined) node / 2 else node
  /** Shuffle keys of the level. */
  def keys: Int = siblings.map(_.pairs.size).getOrElse(frontier.length) * plan.featureBlocks.size
  val chunks: Vector[NativeConfig.Chunk] = plan.chunks
  private val blockOf: Map[(Int, Int), Int] = plan.featureBlocks.zipWithIndex.toMap
  /** Per chunk: its feature block's index and the layout of its histograms. */
  val chunkLayout: Vector[(Int, HistogramLayout)] = chunks.map { c =>
    (blockOf((c.featureStart, c.featureEnd)),
      HistogramLayout(grid.histCodes.slice(c.featureStart, c.featureEnd).toSeq, nChannels, grid.bounded(c.featureStart, c.featureEnd, bounds)))
  }
  val splitSearches: Vector[SplitSearch] = plan.featureBlocks.map { case (f0, f1) =>
    // Features are flagged only when the model has a categorical one (Rust reads no flags as all numeric).
    val kinds = if (categorical.contains(true)) categorical.slice(f0, f1).toSeq else Nil
    val fine = if (grid.isCoarse) grid.fineCodes.slice(f0, f1).toSeq else Nil
    new SplitSearch(NativeConfig.Split(nChannels, minNodeSize, f0, grid.histCodes.slice(f0, f1).toSeq,
      if (outcomeArms > 0) NativeConfig.Outcome else NativeConfig.Policy, outcomeArms, kinds, fine, grid.cutsOf(f0, f1), bounds,
      refineLimit))
  }
  def kernelConfig(tag: String): NativeConfig.Kernel =
    NativeConfig.Kernel(nChannels, grid.fineCodes.toSeq, kernelFrontier.toSeq, chunks, nativeThreads, tag,
      skipRows.map { case (channel, value) => NativeConfig.SkipRows(channel, value) }, grid.cutsOf(0, grid.fineCodes.length), rowSample,
      bounds)

  /** The best split of feature block `fb` for `node`, over the node's feature subset when the job has one. */
  def bestSplit(node: Int, fb: Int, hist: Array[Long]): SplitRecord = {
    val (f0, f1) = plan.featureBlocks(fb)
    splitSearches(fb).best(node, fb, hist, featureSubset.map(_.allowed(node).slice(f0, f1)).orNull)
  }
}

package org.sparkpolicy.ml.model

/**
 * What one level cost and how much reached the driver. `nodesBuilt` node histograms came from the kernel
 * over `rowsHistogrammed` rows (-1: not counted, on a two-level search level); `nodesDerived` frontier nodes'
 * histograms were their parent's minus their sibling's (sibling subtraction). With exact thresholds,
 * `binsRefined` coarse bins (of `binsReaching` listed whose bound reached their node's coarse best, at most
 * `refineBins` a record past the best's own) were refined on the fine grid for `nodesRefined` nodes,
 * `nodesExhaustive` of them certified the exhaustive search's split (no bin left out could reach the refined
 * reward; docs/contract.md).
 */
final case class LevelStats(
    depth: Int,
    frontierNodes: Int,
    featureBlocks: Int,
    nodeGroups: Int,
    recordsToDriver: Int,
    nodesSplit: Int,
    millis: Long,
    peakNativeBytesPerTask: Long = 0L,
    nodesBuilt: Int = 0,
    nodesDerived: Int = 0,
    rowsHistogrammed: Long = -1L,
    binsReaching: Int = 0,
    binsRefined: Int = 0,
    nodesRefined: Int = 0,
    nodesExhaustive: Int = 0) {
  /** The refinement counts of `r` on this level. */
  def withRefinement(r: RefinementStats): LevelStats =
    copy(binsReaching = r.binsReaching, binsRefined = r.binsRefined, nodesRefined = r.nodesRefined, nodesExhaustive = r.nodesExhaustive)
}

/** One level's threshold refinement, over every tree of the pass. */
final case class RefinementStats(binsReaching: Int, binsRefined: Int, nodesRefined: Int, nodesExhaustive: Int)

object RefinementStats {
  val Empty: RefinementStats = RefinementStats(0, 0, 0, 0)
}

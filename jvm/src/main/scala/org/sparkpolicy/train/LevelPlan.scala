package org.sparkpolicy.train

import org.sparkpolicy.bridge.NativeConfig

/**
 * How one level's histograms are cut to fit `maxMemoryMB` per task: frontier slots in groups,
 * features in contiguous blocks. Every (node, feature block) becomes one shuffle key.
 */
private[sparkpolicy] final case class LevelPlan(nodeGroups: Vector[(Int, Int)], featureBlocks: Vector[(Int, Int)]) {
  def chunks: Vector[NativeConfig.Chunk] =
    for ((s0, s1) <- nodeGroups; (f0, f1) <- featureBlocks) yield NativeConfig.Chunk(s0, s1, f0, f1)
}

private[sparkpolicy] object LevelPlan {
  /**
   * Node groups and feature blocks for one level. Feature blocks are cut by the memory budget and,
   * when the frontier is small, also into at least `minKeys / frontier` blocks so that the merge and
   * split search spread over several reduce tasks instead of one.
   */
  def apply(frontierSize: Int, codesPerFeature: Array[Int], nArms: Int, maxMemoryMB: Int, minKeys: Int = 1): LevelPlan = {
    val budgetCells = math.max(1L, maxMemoryMB.toLong * 1024 * 1024 / 8)
    val stride = (nArms + 1).toLong
    val maxCodes = codesPerFeature.max.toLong
    if (maxCodes * stride > Int.MaxValue)
      throw new IllegalArgumentException(s"one node's histogram of one feature needs ${maxCodes * stride} cells, more than a " +
        "Java array holds; lower maxBins or the number of arms")
    val nodesPerGroup = math.max(1L, math.min(frontierSize.toLong, budgetCells / (maxCodes * stride))).toInt
    val groups = (0 until frontierSize by nodesPerGroup).map(s => (s, math.min(frontierSize, s + nodesPerGroup))).toVector
    val cellLimit = math.min(budgetCells, Int.MaxValue.toLong)
    val wantedBlocks = math.min(codesPerFeature.length, math.max(1, (minKeys + frontierSize - 1) / frontierSize))
    val featuresPerBlock = (codesPerFeature.length + wantedBlocks - 1) / wantedBlocks
    val blocks = Vector.newBuilder[(Int, Int)]
    var start = 0
    var cells = 0L
    codesPerFeature.indices.foreach { f =>
      val c = nodesPerGroup * codesPerFeature(f) * stride
      if (f > start && (cells + c > cellLimit || f - start == featuresPerBlock)) {
        blocks += ((start, f))
        start = f
        cells = 0L
      }
      cells += c
    }
    blocks += ((start, codesPerFeature.length))
    LevelPlan(groups, blocks.result())
  }

  /**
   * A sibling-subtraction level's plan: the parent level's feature blocks, so that each derived histogram is
   * the parent's minus its sibling's key for key (whatever frontier size or `minKeys` would cut now), and
   * node groups as large as `maxMemoryMB` allows with those blocks. The parent's blocks held at least one
   * node each within the budget, so every chunk still does.
   */
  def withFeatureBlocks(frontierSize: Int, featureBlocks: Vector[(Int, Int)], codesPerFeature: Array[Int], nArms: Int,
      maxMemoryMB: Int): LevelPlan = {
    val budgetCells = math.max(1L, maxMemoryMB.toLong * 1024 * 1024 / 8)
    val widest = featureBlocks.map { case (f0, f1) => (f0 until f1).map(codesPerFeature(_).toLong).sum * (nArms + 1) }.max
    val nodesPerGroup = math.max(1L, math.min(frontierSize.toLong, budgetCells / widest)).toInt
    LevelPlan((0 until frontierSize by nodesPerGroup).map(s => (s, math.min(frontierSize, s + nodesPerGroup))).toVector, featureBlocks)
  }
}

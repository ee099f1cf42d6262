package org.sparkpolicy.train

import org.sparkpolicy.bridge.NativeConfig

/**
 * How one level of the two-level search (`searchDepth = 2`) is cut to fit `maxMemoryMB` per task:
 * frontier slots in groups, root features in contiguous blocks. A (slot, root feature r) holds
 * codes_r × Σ_g codes_g × (K+1) cells (r's 2-D histograms against every feature g, on the
 * histogram grid); every (node, root block) becomes one shuffle key.
 */
private[sparkpolicy] final case class PairPlan(nodeGroups: Vector[(Int, Int)], rootBlocks: Vector[(Int, Int)]) {
  def chunks: Vector[NativeConfig.Chunk] =
    for ((s0, s1) <- nodeGroups; (r0, r1) <- rootBlocks) yield NativeConfig.Chunk(s0, s1, r0, r1)
}

private[sparkpolicy] object PairPlan {
  /** Cells of one node's pair histograms for root feature `r`. */
  def cellsPerRoot(histCodes: Array[Int], nArms: Int, r: Int): Long = histCodes(r).toLong * histCodes.map(_.toLong).sum * (nArms + 1)

  /**
   * Node groups and root blocks for one level; `histCodes` are the histogram (coarse) codes per feature.
   * Root blocks are cut by the budget and, for a small frontier, into at least `minKeys / frontier`
   * blocks so the merge and the search spread over reduce tasks. A single (node, root feature) that
   * does not fit the budget (or a Java array) is an error naming the memory it needs.
   */
  def apply(frontierSize: Int, histCodes: Array[Int], nArms: Int, maxMemoryMB: Int, minKeys: Int = 1): PairPlan = {
    val budgetCells = math.max(1L, maxMemoryMB.toLong * 1024 * 1024 / 8)
    val cellLimit = math.min(budgetCells, Int.MaxValue.toLong)
    val perRoot = histCodes.indices.map(cellsPerRoot(histCodes, nArms, _))
    val largest = perRoot.max
    if (largest > cellLimit) {
      val r = perRoot.indexOf(largest)
      val mb = (largest * 8 + (1 << 20) - 1) >> 20
      val limit = if (largest > budgetCells) s"more than maxMemoryMB = $maxMemoryMB" else "more than a Java array holds"
      throw new IllegalArgumentException(s"searchDepth = 2 needs $mb MB for one node's pair histograms of root feature $r " +
        s"(${histCodes(r)} codes × ${histCodes.sum} codes over all features × ${nArms + 1} cells), $limit; " +
        "raise maxMemoryMB, lower maxBins or the number of features, or use searchDepth = 1")
    }
    val nodesPerGroup = math.max(1L, math.min(frontierSize.toLong, cellLimit / largest)).toInt
    val groups = (0 until frontierSize by nodesPerGroup).map(s => (s, math.min(frontierSize, s + nodesPerGroup))).toVector
    val nRoots = histCodes.length
    val wantedBlocks = math.min(nRoots, math.max(1, (minKeys + frontierSize - 1) / math.max(1, frontierSize)))
    val rootsPerBlock = (nRoots + wantedBlocks - 1) / wantedBlocks
    val blocks = Vector.newBuilder[(Int, Int)]
    var start = 0
    var cells = 0L
    histCodes.indices.foreach { r =>
      val c = nodesPerGroup * perRoot(r)
      if (r > start && (cells + c > cellLimit || r - start == rootsPerBlock)) {
        blocks += ((start, r))
        start = r
        cells = 0L
      }
      cells += c
    }
    blocks += ((start, nRoots))
    PairPlan(groups, blocks.result())
  }
}

package org.sparkpolicy.bridge

/**
 * The cell layout of a pair kernel's chunk (`native/core/src/pair_layout.rs`):
 * `[slot][root r][g][code_r][code_g][channel]`, row-major. Roots run over the chunk's root features
 * [rootStart, rootEnd), g over every feature; codes are histogram (coarse) codes, value bins then the
 * missing code on both axes; a cell holds the K channel sums then the row count (stride K + 1). A
 * node's part of a chunk — the unit merged across partitions and searched — is one contiguous slot.
 */
private[sparkpolicy] final case class PairLayout(codesPerFeature: Seq[Int], rootStart: Int, rootEnd: Int, nChannels: Int) {
  val stride: Int = nChannels + 1
  private val codes = codesPerFeature.toArray
  private val codePrefix: Array[Long] = codes.scanLeft(0L)(_ + _)
  private val rootBase: Array[Long] = (rootStart until rootEnd).scanLeft(0L)((acc, r) => acc + codes(r) * codePrefix.last * stride).toArray
  require(rootBase.last <= Int.MaxValue, s"one node's pair histograms need ${rootBase.last} cells, more than a Java array holds")
  /** Longs per node: every root of the chunk against every feature. */
  val cellsPerNode: Int = rootBase.last.toInt

  /** Index of (slot, root of the chunk, feature g, code of the root, code of g, channel); channel `nChannels` is the row count. */
  def offset(slot: Int, root: Int, g: Int, codeR: Int, codeG: Int, channel: Int): Int =
    (slot.toLong * cellsPerNode + rootBase(root) + codes(rootStart + root) * codePrefix(g) * stride +
      (codeR.toLong * codes(g) + codeG) * stride + channel).toInt

  /** Rows of a slot: the counts of the first root's histogram against feature 0. */
  def rows(histogram: Array[Long], slot: Int): Long = {
    var total = 0L
    var cell = offset(slot, 0, 0, 0, 0, nChannels)
    val end = cell + codes(rootStart) * codes(0) * stride
    while (cell < end) { total += histogram(cell); cell += stride }
    total
  }

  /** The slot's pair histograms as their own array. */
  def node(histogram: Array[Long], slot: Int): Array[Long] =
    java.util.Arrays.copyOfRange(histogram, slot * cellsPerNode, (slot + 1) * cellsPerNode)
}

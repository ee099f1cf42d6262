package org.sparkpolicy.bridge

/**
 * The cell layout of the histograms a kernel emits for one chunk (`native/core/src/histogram_layout.rs`): `[slot][feature][code][channel]`, row-major, where a cell holds the chunk's K
 * channel sums then the row count (stride K + 1), features run over the chunk's feature range and
 * codes over each feature's value bins plus its missing code; a `bounded` feature (a coarse feature of an
 * exact-threshold search) has its value bins' positive-part sums (K each) after its codes. A node's
 * histogram — the unit merged across partitions and searched for a split — is one contiguous slot.
 */
private[sparkpolicy] final case class HistogramLayout(codesPerFeature: Seq[Int], nChannels: Int, bounded: Seq[Boolean] = Nil) {
  val stride: Int = nChannels + 1
  /** Longs of each feature: its codes, and a bounded feature's `(codes − 1) × K` bound cells after them. */
  private val featureCells: Seq[Int] = codesPerFeature.zipWithIndex.map { case (c, j) =>
    c * stride + (if (bounded.lift(j).contains(true)) (c - 1) * nChannels else 0)
  }
  /** Longs per node: every cell of every feature of the chunk. */
  val cellsPerNode: Int = featureCells.sum
  private val featureBase: Array[Int] = featureCells.scanLeft(0)(_ + _).toArray

  /** Index of (slot, feature of the chunk, code, channel); channel `nChannels` is the row count. */
  def offset(slot: Int, feature: Int, code: Int, channel: Int): Int =
    slot * cellsPerNode + featureBase(feature) + code * stride + channel

  /** Rows of a slot: the row counts summed over the first feature's codes (every row has one code per feature). */
  def rows(histogram: Array[Long], slot: Int): Long = {
    var total = 0L
    var code = 0
    while (code < codesPerFeature.head) { total += histogram(offset(slot, 0, code, nChannels)); code += 1 }
    total
  }

  /** The slot's histogram as its own array. */
  def node(histogram: Array[Long], slot: Int): Array[Long] =
    java.util.Arrays.copyOfRange(histogram, slot * cellsPerNode, (slot + 1) * cellsPerNode)
}

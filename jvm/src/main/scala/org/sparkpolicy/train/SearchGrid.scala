package org.sparkpolicy.train

/**
 * Where a split can go and where it is searched first. `edges` are the contract's boundaries per feature
 * (the fine grid: every candidate threshold); the blocks hold their codes. `cuts(f)`, when defined, are
 * the fine edge indices of feature f's coarse edges: its histograms hold coarse codes, and the winning
 * coarse threshold is refined on the fine grid (`ThresholdRefinement`). The cuts are a function of the
 * edges and `searchBins` alone, so locked boundaries give the same grid as the fit that placed them.
 */
private[sparkpolicy] final case class SearchGrid(edges: Array[Array[Double]], cuts: Array[Option[Array[Int]]]) {
  require(edges.length == cuts.length, s"${cuts.length} coarse cut lists for ${edges.length} features")

  /** What kernels and split searches need (no edges: level jobs travel to every task). */
  val codes: GridCodes = GridCodes(edges.map(_.length + 2), cuts)
  def fineCodes: Array[Int] = codes.fineCodes
  def histCodes: Array[Int] = codes.histCodes
  def isCoarse: Boolean = codes.isCoarse
}

private[sparkpolicy] object SearchGrid {
  /**
   * Fine edges over all features at most: 2^20 doubles (8 MiB on the driver and in each binning task, and
   * at most about 20 MB of the saved model's contract JSON).
   */
  val MaxFineEdges: Long = 1L << 20

  /**
   * Fine value bins per feature for `nFeatures` features: every distinct value of the boundary sample up to
   * 65,535 (the u16 code limit), fewer past 16 features, where the total would exceed `MaxFineEdges`
   * (⌊2^20 / F⌋ each: 52,428 at 20 features, 10,485 at 100, 104 at 10,000); never fewer than `searchBins`.
   */
  def fineBins(searchBins: Int, nFeatures: Int): Int =
    math.max(searchBins.toLong, math.min(65535L, MaxFineEdges / math.max(1, nFeatures))).toInt

  /** Every feature searched on its edges as they are. */
  def binned(edges: Array[Array[Double]]): SearchGrid = SearchGrid(edges, Array.fill(edges.length)(None))

  /**
   * Coarse grids of at most `searchBins` value bins for the numeric features with more fine value bins:
   * coarse edge j (0 ≤ j < searchBins − 1) is fine edge ⌊(j + 1)·(m + 1) / searchBins⌋ − 1 of the m fine
   * edges, so each coarse bin holds an equal share of the fine bins (for fine edges at the distinct values
   * of a sample, about an equal share of the sample). Categorical features keep their codes.
   */
  def apply(edges: Array[Array[Double]], searchBins: Int, categorical: Array[Boolean]): SearchGrid =
    SearchGrid(edges, Array.tabulate(edges.length) { f =>
      val m = edges(f).length
      if (categorical.lift(f).contains(true) || m + 1 <= searchBins) None
      else Some(Array.tabulate(searchBins - 1)(j => ((j + 1).toLong * (m + 1) / searchBins - 1).toInt))
    })
}

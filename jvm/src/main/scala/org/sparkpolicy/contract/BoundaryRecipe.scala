package org.sparkpolicy.contract

/**
 * How the split boundaries were (or are to be) placed. `searchBins` > 0: thresholds are exact — the
 * boundaries are the fine grid, searched first on a coarse grid of `searchBins` value bins derived from
 * them alone (`train.SearchGrid`), then refined; 0: the boundaries are the only candidate thresholds.
 */
final case class BoundaryRecipe(strategy: String, maxBins: Int, sampleSize: Int, sampleSeed: Long, rowIdCol: Option[String],
    searchBins: Int = 0)

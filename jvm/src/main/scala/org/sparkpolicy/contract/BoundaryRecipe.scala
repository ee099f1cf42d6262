package org.sparkpolicy.contract

/** How the split boundaries were (or are to be) placed. */
final case class BoundaryRecipe(strategy: String, maxBins: Int, sampleSize: Int, sampleSeed: Long, rowIdCol: Option[String])

package org.sparkpolicy.train

/** Tree-growing settings, resolved from the learner's Params. */
private[sparkpolicy] final case class TreeSettings(
    maxDepth: Int,
    minNodeSize: Int,
    maxBins: Int,
    maxMemoryMB: Int,
    sampleSize: Int,
    boundaryStrategy: String = "exact",
    nativeThreads: Int = 1)

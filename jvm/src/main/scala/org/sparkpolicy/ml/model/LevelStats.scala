package org.sparkpolicy.ml.model

/**
 * What one level cost and how much reached the driver. `nodesBuilt` node histograms came from the kernel
 * over `rowsHistogrammed` rows (-1: not counted, on a two-level search level); `nodesDerived` frontier nodes'
 * histograms were their parent's minus their sibling's (sibling subtraction).
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
    rowsHistogrammed: Long = -1L)

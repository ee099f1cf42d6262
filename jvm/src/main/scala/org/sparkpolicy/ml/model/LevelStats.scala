package org.sparkpolicy.ml.model

/** What one level cost and how much reached the driver. */
final case class LevelStats(
    depth: Int,
    frontierNodes: Int,
    featureBlocks: Int,
    nodeGroups: Int,
    recordsToDriver: Int,
    nodesSplit: Int,
    millis: Long,
    peakNativeBytesPerTask: Long = 0L)

package org.sparkpolicy.ml.model

/**
 * One entry of the split-decision log: what a frontier node decided, its gain over staying a leaf
 * (in reward units), and the runner-up: the best split on any other feature (feature −1 if none).
 * A node that did not split records its best candidate anyway (`split` false), when it had one.
 */
final case class SplitDecision(
    depth: Int,
    node: Int,
    split: Boolean,
    rows: Long,
    feature: Int,
    threshold: Double,
    missingLeft: Boolean,
    gain: Double,
    runnerUpFeature: Int,
    runnerUpThreshold: Double,
    runnerUpGain: Double)

package org.sparkpolicy.bridge

/**
 * The fine thresholds `lo..=hi` to refine around a coarse winner, with the sums of the value rows below
 * fine code `lo` and of the winning feature's missing rows (`split::Window`).
 */
private[sparkpolicy] final case class RefineWindow(lo: Int, hi: Int, below: Array[Long], missing: Array[Long])

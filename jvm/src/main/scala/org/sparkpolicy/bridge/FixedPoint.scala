package org.sparkpolicy.bridge

/**
 * The fixed-point scale of Γ (`native/core/src/fixed_point.rs`): rewards are stored as multiples of
 * 2^-shift, chosen from the row count and max |Γ| alone, so every merge order of the integer sums is exact.
 */
private[sparkpolicy] object FixedPoint {
  /** The shift for `nRows` rewards of magnitude at most `maxAbs`. */
  def rewardShift(nRows: Long, maxAbs: Double): Int = {
    NativeLib.load()
    NativeLib.rewardShift(nRows, maxAbs)
  }
}

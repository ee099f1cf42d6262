package org.sparkpolicy.bridge

/**
 * One candidate split inside a record: rows with code ≤ thresholdBin (x ≤ edge) go left. `reward` is
 * the criterion's value as the native split search encodes it (`native/core/src/split_record.rs`): the
 * exact best-arm Γ sums of both sides for the policy tree, the IEEE bits of the f64 outcome score for an
 * outcome tree (`outcome::outcome_reward`; non-negative doubles order like their bits, so one integer
 * comparison ranks both).
 */
private[sparkpolicy] final case class Candidate(feature: Int, thresholdBin: Int, missingLeft: Boolean, reward: BigInt) {
  /** An outcome tree's score Σ_a (S_aL²/n_aL + S_aR²/n_aR), decoded from `reward`. */
  def outcomeScore: Double = java.lang.Double.longBitsToDouble(reward.toLong)
}

package org.sparkpolicy.bridge

/** One candidate split inside a record: rows with code ≤ thresholdBin (x ≤ edge) go left. */
private[sparkpolicy] final case class Candidate(feature: Int, thresholdBin: Int, missingLeft: Boolean, reward: BigInt)

package org.sparkpolicy.train

import org.apache.spark.sql.DataFrame

/**
 * AIPW inputs before Γ exists: `frame` holds the features, arm index, outcome, propensity (null unless
 * given), fold and sample hash; Γ is attached once the boundaries and the outcome models are known.
 */
private[sparkpolicy] final case class AipwBase(frame: DataFrame, maxAbsOutcome: Double, propensity: String, shares: Array[Double])

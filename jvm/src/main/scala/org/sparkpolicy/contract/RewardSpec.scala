package org.sparkpolicy.contract

/**
 * How Γ is defined: `given` reward columns, `ipw` from treatment, outcome and propensity, or `aipw`,
 * which adds the cross-fitting recipe (`aipw`).
 */
final case class RewardSpec(
    rewardType: String,
    treatmentCol: Option[String],
    rewardCols: Seq[String],
    outcomeCol: Option[String],
    propensityCol: Option[String],
    aipw: Option[AipwSpec] = None)

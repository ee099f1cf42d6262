package org.sparkpolicy.train

/** What the learner's Params say about the input columns, resolved once per fit. */
private[sparkpolicy] final case class InputSpec(
    featureCols: Array[String],
    treatmentCol: Option[String],
    rewardCols: Option[Array[String]],
    outcomeCol: Option[String],
    propensityCol: Option[String],
    rewardType: Option[String],
    vocabulary: Option[Array[String]],
    rowIdCol: Option[String],
    handleInvalid: String,
    aipw: AipwSettings,
    categoricalCols: Array[String] = Array.empty,
    categoryOrders: Map[String, Array[String]] = Map.empty)

package org.sparkpolicy.ml.params

import org.apache.spark.ml.param._

/** Where the rewards Γ come from: given per-arm columns, or IPW from an outcome and treatment. */
trait HasRewardInputs[S] extends Params { self: S =>
  final val treatmentCol: Param[String] = new Param[String](this, "treatmentCol",
    "column of arm labels (string or integer); optional when rewardCols is set")
  final val rewardCols: StringArrayParam = new StringArrayParam(this, "rewardCols",
    "one reward (Γ) column per arm, in vocabulary order; without treatmentCol the arms are named after these columns")
  final val outcomeCol: Param[String] = new Param[String](this, "outcomeCol", "observed outcome Y, for AIPW or IPW rewards")
  final val propensityCol: Param[String] = new Param[String](this, "propensityCol",
    "probability of the arm each row received; when unset, the arm's share in the data (or, for AIPW, see propensityModel)")
  final val rewardType: Param[String] = new Param[String](this, "rewardType",
    "how Γ is built: 'given' (rewardCols), 'ipw' (Γ(a) = 1{W=a}·Y/e) or 'aipw' (Γ(a) = μ̂_a(X) + 1{W=a}·(Y − μ̂_a(X))/e, " +
      "cross-fitted); default 'given' when rewardCols is set, else 'aipw'",
    ParamValidators.inArray(Array("given", "ipw", "aipw")))
  final val treatmentVocabulary: StringArrayParam = new StringArrayParam(this, "treatmentVocabulary",
    "fixed arm order; default: integer labels sorted numerically, string labels by UTF-8 bytes")

  final def getTreatmentCol: String = $(treatmentCol)
  final def getRewardCols: Array[String] = $(rewardCols)
  final def getOutcomeCol: String = $(outcomeCol)
  final def getPropensityCol: String = $(propensityCol)
  final def getRewardType: String = $(rewardType)

  final def setTreatmentCol(value: String): S = set(treatmentCol, value)
  final def setRewardCols(value: Array[String]): S = set(rewardCols, value)
  final def setOutcomeCol(value: String): S = set(outcomeCol, value)
  final def setPropensityCol(value: String): S = set(propensityCol, value)
  final def setRewardType(value: String): S = set(rewardType, value)
  final def setTreatmentVocabulary(value: Array[String]): S = set(treatmentVocabulary, value)
}

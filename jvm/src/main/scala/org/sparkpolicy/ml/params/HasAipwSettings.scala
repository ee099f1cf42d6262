package org.sparkpolicy.ml.params

import org.apache.spark.ml.param._
import org.sparkpolicy.train.AipwSettings

/** How AIPW rewards cross-fit their nuisances (outcome models μ̂ and propensities ê), and what happens to invalid rows. */
trait HasAipwSettings[S] extends Params { self: S =>
  final val crossFitFolds: IntParam = new IntParam(this, "crossFitFolds",
    "AIPW cross-fitting folds K, chosen by a hash of each row's content (or rowIdCol); fold k is predicted by models fitted on the other folds",
    ParamValidators.inRange(2, 100))
  final val propensityFloor: DoubleParam = new DoubleParam(this, "propensityFloor",
    "AIPW propensities are clipped to [propensityFloor, 1]; the number of clipped rows is in the training summary",
    ParamValidators.inRange(0.0, 1.0, lowerInclusive = false, upperInclusive = true))
  final val propensityModel: Param[String] = new Param[String](this, "propensityModel",
    "AIPW propensity when propensityCol is unset: 'shares' (the arm's share of all rows, for randomized designs) or " +
      "'tree' (the arm's share of the leaf of the row's cross-fitted outcome tree)",
    ParamValidators.inArray(Array("shares", "tree")))
  final val outcomeMaxDepth: IntParam = new IntParam(this, "outcomeMaxDepth",
    "depth of the native cross-fitted outcome trees μ̂ (1 to 12)", ParamValidators.inRange(1, 12))
  final val outcomeMinNodeSize: IntParam = new IntParam(this, "outcomeMinNodeSize",
    "minimum rows in each child of an outcome-tree split; a leaf's arm mean needs this many rows of the arm, else it comes " +
      "from the nearest ancestor that has them", ParamValidators.gtEq(1))
  final val handleInvalid: Param[String] = new Param[String](this, "handleInvalid",
    "rows with a null treatment or a null, NaN or infinite outcome: 'error' (default; the message names the column and " +
      "count) or 'skip' (dropped and counted in the training summary)", ParamValidators.inArray(Array("error", "skip")))
  setDefault(crossFitFolds -> 5, propensityFloor -> 0.01, propensityModel -> "shares", outcomeMaxDepth -> 4,
    outcomeMinNodeSize -> 20, handleInvalid -> "error")

  final def getCrossFitFolds: Int = $(crossFitFolds)
  final def getPropensityFloor: Double = $(propensityFloor)
  final def getPropensityModel: String = $(propensityModel)
  final def getOutcomeMaxDepth: Int = $(outcomeMaxDepth)
  final def getOutcomeMinNodeSize: Int = $(outcomeMinNodeSize)
  final def getHandleInvalid: String = $(handleInvalid)

  final def setCrossFitFolds(value: Int): S = set(crossFitFolds, value)
  final def setPropensityFloor(value: Double): S = set(propensityFloor, value)
  final def setPropensityModel(value: String): S = set(propensityModel, value)
  final def setOutcomeMaxDepth(value: Int): S = set(outcomeMaxDepth, value)
  final def setOutcomeMinNodeSize(value: Int): S = set(outcomeMinNodeSize, value)
  final def setHandleInvalid(value: String): S = set(handleInvalid, value)

  /** The AIPW settings these Params and the stage's native resources say, resolved once per fit or transform. */
  private[sparkpolicy] def aipwSettings(outcomeModel: Option[org.apache.spark.ml.Estimator[_]], native: NativeResources): AipwSettings =
    AipwSettings($(crossFitFolds), $(propensityFloor), $(propensityModel), $(outcomeMaxDepth), $(outcomeMinNodeSize), outcomeModel,
      native.maxMemoryMB, native.threads)
}

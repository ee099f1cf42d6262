package org.sparkpolicy.train

import org.sparkpolicy.contract.{AipwSpec, RowHash}



/**
 * How the AIPW nuisances are fitted, resolved once from a stage's Params (the learner's or
 * `DoublyRobustScores`'). `maxMemoryMB` and `nativeThreads` are the stage's own native settings: they
 * have no defaults here, so no stage can silently run its outcome trees with other ones.
 */
private[sparkpolicy] final case class AipwSettings(
    folds: Int,
    propensityFloor: Double,
    propensityModel: String,
    outcomeMaxDepth: Int,
    outcomeMinNodeSize: Int,
    outcomeModel: Option[org.apache.spark.ml.Estimator[_]],
    maxMemoryMB: Int,
    nativeThreads: Int) {

  /** The contract's record of this recipe, with the propensity source actually used. */
  def spec(propensity: String): AipwSpec =
    AipwSpec(folds, RowHash.FoldSeed, propensity, propensityFloor,
      outcomeModel.map(_.getClass.getName).getOrElse(s"tree(depth=$outcomeMaxDepth,minNodeSize=$outcomeMinNodeSize)"))
}

private[sparkpolicy] object AipwSettings {
  /** The stages' Param defaults with the given native settings (for tests and benches that bypass a stage). */
  def defaults(maxMemoryMB: Int, nativeThreads: Int): AipwSettings =
    AipwSettings(folds = 5, propensityFloor = 0.01, propensityModel = "shares", outcomeMaxDepth = 4, outcomeMinNodeSize = 20,
      outcomeModel = None, maxMemoryMB = maxMemoryMB, nativeThreads = nativeThreads)
}

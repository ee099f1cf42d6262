package org.sparkpolicy.ml.params

import org.apache.spark.ml.Estimator

/**
 * The AIPW outcome model of the stages that fit one (`PolicyTreeLearner`, `PolicyForestLearner`, `DoublyRobustScores`):
 * any Spark ML regressor instead of the native outcome trees, fitted per (fold, arm) on the fold's complement. Not a
 * Param (an estimator is not a Param value): each stage saves it beside its Params (`OutcomeModelPersistence`) and
 * keeps it on `copy` (`copyOutcomeModelTo`). Fitted models have none: their rewards are fixed.
 */
trait HasOutcomeModel {
  private var outcomeModel: Option[Estimator[_]] = None

  /**
   * Any Spark ML regressor as the AIPW outcome model instead of the native trees; None (or null) clears it. Saved
   * with the stage (under `outcomeModel/`; it must be MLWritable); outside the semantic contract when the
   * regressor's fit depends on the data's layout (see docs/contract.md).
   */
  def setOutcomeModel(value: Estimator[_]): this.type = { outcomeModel = Option(value); this }
  def getOutcomeModel: Option[Estimator[_]] = outcomeModel

  /** `copy`'s part: the copy uses the same regressor. */
  protected def copyOutcomeModelTo[T <: HasOutcomeModel](copy: T): T = { copy.outcomeModel = outcomeModel; copy }
}

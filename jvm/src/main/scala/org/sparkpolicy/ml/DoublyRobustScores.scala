package org.sparkpolicy.ml

import org.apache.spark.ml.Transformer
import org.apache.spark.ml.param._
import org.apache.spark.ml.util.{DefaultParamsReadable, DefaultParamsWritable, Identifiable, MLReader, MLWriter}
import org.apache.spark.sql.{DataFrame, Dataset}
import org.apache.spark.sql.functions._
import org.apache.spark.sql.types._
import org.sparkpolicy.ml.params.{HasAipwSettings, HasBinning, HasCategoricalFeatures, HasNativeResources, HasOutcomeModel, HasPolicyFeatures,
  HasRewardInputs}
import org.sparkpolicy.rewards.AipwRewards
import org.sparkpolicy.train.{Boundaries, Categories, InputSpec, PassOptions, SearchGrid, TrainingData}

/**
 * Appends each row's AIPW scores Γ(a), one `array<double>` in vocabulary order (`rewardsCol`), with the
 * nuisances cross-fitted on the transformed data itself: K folds by a hash of each row (or `rowIdCol`),
 * fold k's rows scored by outcome trees grown on the other folds, on exact boundaries of the same data.
 * Feed the column to `PolicyValueEvaluator.setRewardsCol` to evaluate a policy honestly on a holdout:
 *
 * {{{
 * val scored = new DoublyRobustScores().setFeatureCols(features).setTreatmentCol("segment").setOutcomeCol("spend")
 *   .setTreatmentVocabulary(model.getTreatmentVocabulary).transform(model.transform(holdout))
 * new PolicyValueEvaluator().setRewardsCol("rewards").setModel(model).summary(scored)
 * }}}
 *
 * Same rows and Params ⇒ bit-identical Γ in any layout (unless `setOutcomeModel` is a layout-dependent regressor).
 * Rows with a missing treatment or outcome fail the transform, or are dropped under `handleInvalid = "skip"`.
 */
class DoublyRobustScores(override val uid: String)
    extends Transformer with HasPolicyFeatures[DoublyRobustScores] with HasCategoricalFeatures[DoublyRobustScores]
    with HasRewardInputs[DoublyRobustScores] with HasAipwSettings[DoublyRobustScores] with HasBinning[DoublyRobustScores]
    with HasNativeResources[DoublyRobustScores] with HasOutcomeModel with DefaultParamsWritable {

  def this() = this(Identifiable.randomUID("doublyRobustScores"))

  final val rewardsCol: Param[String] = new Param[String](this, "rewardsCol", "output array<double> column of Γ per arm, vocabulary order")
  setDefault(rewardsCol -> "rewards")

  def setRewardsCol(value: String): this.type = set(rewardsCol, value)
  final def getRewardsCol: String = $(rewardsCol)

  override def transform(dataset: Dataset[_]): DataFrame = {
    transformSchema(dataset.schema)
    if (!isDefined(treatmentCol) || !isDefined(outcomeCol)) throw new IllegalArgumentException("DoublyRobustScores needs treatmentCol and outcomeCol")
    if (isDefined(rewardCols)) throw new IllegalArgumentException("DoublyRobustScores builds rewards from treatmentCol and outcomeCol; unset rewardCols")
    if (get(rewardType).exists(_ != "aipw")) throw new IllegalArgumentException(s"DoublyRobustScores computes AIPW scores; rewardType '${$(rewardType)}' is not supported")
    val df = dataset.toDF()
    val settings = aipwSettings(getOutcomeModel, nativeResources(df.sparkSession.sparkContext))
    val spec = InputSpec($(featureCols), get(treatmentCol), None, get(outcomeCol), get(propensityCol), Some("aipw"),
      get(treatmentVocabulary), get(rowIdCol), $(handleInvalid), settings, getCategoricalCols, getCategoryOrdersMap)
    // The validation pass draws the boundary sample too, so the boundaries cost no pass over the rows of their own.
    val data = TrainingData.prepare(df, spec, keepUserColumns = true, PassOptions(sampleSize = Some($(boundarySampleSize))))
    val edges = Categories.withCodeEdges(Boundaries.fromSample(data.boundarySample.get, $(maxBins)), data.categories, $(featureCols),
      locked = false)
    val (scored, _) = AipwRewards.crossFit(data, SearchGrid.binned(edges), settings)
    val gammas = (0 until data.nArms).map(a => col(TrainingData.rewardName(a)))
    scored.select(df.columns.toSeq.map(TrainingData.userCol) :+ array(gammas: _*).as($(rewardsCol)): _*)
  }

  override def transformSchema(schema: StructType): StructType = {
    if (isDefined(featureCols)) TrainingData.validateFeatures(schema, $(featureCols), getCategoricalCols)
    if (schema.fieldNames.contains($(rewardsCol)))
      throw new IllegalArgumentException(s"input already has a column named '${$(rewardsCol)}'; set rewardsCol to another name")
    schema.add($(rewardsCol), ArrayType(DoubleType, containsNull = false), nullable = false)
  }

  /** Saves the outcome regressor too, if set; fails if it cannot be saved. */
  override def write: MLWriter = new OutcomeModelPersistence.Writer(this, getOutcomeModel, super.write)

  override def copy(extra: ParamMap): DoublyRobustScores = copyOutcomeModelTo(defaultCopy[DoublyRobustScores](extra))
}

object DoublyRobustScores extends DefaultParamsReadable[DoublyRobustScores] {
  /** The Params, then the outcome regressor saved with them (`OutcomeModelPersistence`). */
  override def read: MLReader[DoublyRobustScores] = new OutcomeModelPersistence.Reader[DoublyRobustScores](super.read, _.setOutcomeModel(_))
}

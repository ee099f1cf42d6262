package org.sparkpolicy.ml

import org.apache.spark.ml.{Estimator, Transformer}
import org.apache.spark.ml.param._
import org.apache.spark.ml.util.{DefaultParamsReadable, DefaultParamsWritable, Identifiable, MLReader, MLWriter}
import org.apache.spark.sql.{DataFrame, Dataset}
import org.apache.spark.sql.functions._
import org.apache.spark.sql.types._
import org.sparkpolicy.NativeLib
import org.sparkpolicy.exec.{AipwRewards, AipwSettings, Boundaries, Categories, InputSpec, TrainingData}

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
    extends Transformer with HasPolicyFeatures with HasCategoricalFeatures with HasRewardInputs with HasAipwSettings
    with DefaultParamsWritable {

  def this() = this(Identifiable.randomUID("doublyRobustScores"))

  final val rewardsCol: Param[String] = new Param[String](this, "rewardsCol", "output array<double> column of Γ per arm, vocabulary order")
  final val maxBins: IntParam = new IntParam(this, "maxBins",
    "maximum value bins per feature (2 to 65,535), plus one code reserved for missing values", ParamValidators.inRange(2, 65535))
  final val boundarySampleSize: IntParam = new IntParam(this, "boundarySampleSize",
    "rows sampled (by content hash) to place split boundaries; every row when the data is smaller", ParamValidators.gtEq(1))
  final val rowIdCol: Param[String] = new Param[String](this, "rowIdCol",
    "optional row id column; when set, folds and the boundary sample are chosen by a hash of the id instead of the row's content")
  setDefault(rewardsCol -> "rewards", maxBins -> 64, boundarySampleSize -> 200000)

  def setFeatureCols(value: Array[String]): this.type = set(featureCols, value)
  /** As the learner's: use the same categorical settings, so the outcome trees code categories as the policy tree does. */
  def setCategoricalCols(value: Array[String]): this.type = set(categoricalCols, value)
  def setCategoryOrders(value: String): this.type = set(categoryOrders, value)
  def setCategoryOrders(value: Map[String, Array[String]]): this.type = set(categoryOrders, HasCategoricalFeatures.ordersJson(value))
  def setTreatmentCol(value: String): this.type = set(treatmentCol, value)
  def setOutcomeCol(value: String): this.type = set(outcomeCol, value)
  def setPropensityCol(value: String): this.type = set(propensityCol, value)
  def setRewardCols(value: Array[String]): this.type = set(rewardCols, value)
  def setRewardType(value: String): this.type = set(rewardType, value)
  def setTreatmentVocabulary(value: Array[String]): this.type = set(treatmentVocabulary, value)
  def setCrossFitFolds(value: Int): this.type = set(crossFitFolds, value)
  def setPropensityFloor(value: Double): this.type = set(propensityFloor, value)
  def setPropensityModel(value: String): this.type = set(propensityModel, value)
  def setOutcomeMaxDepth(value: Int): this.type = set(outcomeMaxDepth, value)
  def setOutcomeMinNodeSize(value: Int): this.type = set(outcomeMinNodeSize, value)
  def setHandleInvalid(value: String): this.type = set(handleInvalid, value)
  def setRewardsCol(value: String): this.type = set(rewardsCol, value)
  def setMaxBins(value: Int): this.type = set(maxBins, value)
  def setBoundarySampleSize(value: Int): this.type = set(boundarySampleSize, value)
  def setRowIdCol(value: String): this.type = set(rowIdCol, value)
  final def getRewardsCol: String = $(rewardsCol)
  final def getMaxBins: Int = $(maxBins)
  final def getBoundarySampleSize: Int = $(boundarySampleSize)
  final def getRowIdCol: String = $(rowIdCol)

  private var outcomeModel: Option[Estimator[_]] = None

  /** A Spark ML regressor instead of the native outcome trees (see `PolicyTreeLearner.setOutcomeModel`); saved with the stage. */
  def setOutcomeModel(value: Estimator[_]): this.type = { outcomeModel = Option(value); this }
  def getOutcomeModel: Option[Estimator[_]] = outcomeModel

  override def transform(dataset: Dataset[_]): DataFrame = {
    transformSchema(dataset.schema)
    if (!isDefined(treatmentCol) || !isDefined(outcomeCol)) throw new IllegalArgumentException("DoublyRobustScores needs treatmentCol and outcomeCol")
    if (isDefined(rewardCols)) throw new IllegalArgumentException("DoublyRobustScores builds rewards from treatmentCol and outcomeCol; unset rewardCols")
    if (get(rewardType).exists(_ != "aipw")) throw new IllegalArgumentException(s"DoublyRobustScores computes AIPW scores; rewardType '${$(rewardType)}' is not supported")
    val df = dataset.toDF()
    NativeLib.load()
    val settings = AipwSettings($(crossFitFolds), $(propensityFloor), $(propensityModel), $(outcomeMaxDepth), $(outcomeMinNodeSize), outcomeModel)
    val spec = InputSpec($(featureCols), get(treatmentCol), None, get(outcomeCol), get(propensityCol), Some("aipw"),
      get(treatmentVocabulary), get(rowIdCol), $(handleInvalid), settings, getCategoricalCols, getCategoryOrdersMap)
    val data = TrainingData.prepare(df, spec, keepUserColumns = true)
    val edges = Categories.withCodeEdges(Boundaries.compute(data, $(maxBins), $(boundarySampleSize)), data.categories, $(featureCols),
      locked = false)
    val (scored, _) = AipwRewards.crossFit(data, edges, settings)
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
  override def write: MLWriter = new OutcomeModelPersistence.Writer(this, outcomeModel, super.write)

  override def copy(extra: ParamMap): DoublyRobustScores = {
    val c = defaultCopy[DoublyRobustScores](extra)
    c.outcomeModel = outcomeModel
    c
  }
}

object DoublyRobustScores extends DefaultParamsReadable[DoublyRobustScores] {
  /** The Params, then the outcome regressor saved with them (`OutcomeModelPersistence`). */
  override def read: MLReader[DoublyRobustScores] = new OutcomeModelPersistence.Reader[DoublyRobustScores](super.read, _.setOutcomeModel(_))
}

package org.sparkpolicy.ml

import org.apache.spark.ml.Estimator
import org.apache.spark.ml.param.ParamMap
import org.apache.spark.ml.util.{DefaultParamsReadable, DefaultParamsWritable, Identifiable, MLReader, MLWriter}
import org.apache.spark.sql.Dataset
import org.apache.spark.sql.types.StructType
import org.apache.spark.storage.StorageLevel
import org.sparkpolicy.contract.Contract
import org.sparkpolicy.exec.{AipwSettings, InputSpec, TrainingData, TreeSettings, TreeTrainer}

/**
 * Learns a shallow policy tree that picks one of K arms per row to maximize the summed reward Γ.
 * The tree is grown greedily, level by level, with policytree's split criterion (best-arm sum left plus
 * best-arm sum right) — policytree itself searches exhaustively, so deeper trees can differ — on native
 * exact-integer histograms and without collecting rows, histograms or candidates on the driver.
 *
 * {{{
 * val model = new PolicyTreeLearner()
 *   .setFeatureCols(Array("recency", "history"))
 *   .setTreatmentCol("segment").setOutcomeCol("spend")   // AIPW rewards, cross-fitted
 *   .setMaxDepth(3)
 *   .fit(train)
 * }}}
 */
class PolicyTreeLearner(override val uid: String)
    extends Estimator[PolicyTreeModel]
    with HasPolicyFeatures with HasCategoricalFeatures with HasRewardInputs with HasAipwSettings with HasTreeGrowth with HasScoringBatch
    with DefaultParamsWritable {

  def this() = this(Identifiable.randomUID("policyTreeLearner"))

  def setFeatureCols(value: Array[String]): this.type = set(featureCols, value)
  def setCategoricalCols(value: Array[String]): this.type = set(categoricalCols, value)
  /** Category labels in code order per categorical feature, as JSON `{"column": ["label", ...]}`. */
  def setCategoryOrders(value: String): this.type = set(categoryOrders, value)
  /** Category labels in code order per categorical feature. */
  def setCategoryOrders(value: Map[String, Array[String]]): this.type = set(categoryOrders, HasCategoricalFeatures.ordersJson(value))
  def setTreatmentCol(value: String): this.type = set(treatmentCol, value)
  def setRewardCols(value: Array[String]): this.type = set(rewardCols, value)
  def setOutcomeCol(value: String): this.type = set(outcomeCol, value)
  def setPropensityCol(value: String): this.type = set(propensityCol, value)
  def setRewardType(value: String): this.type = set(rewardType, value)
  def setTreatmentVocabulary(value: Array[String]): this.type = set(treatmentVocabulary, value)
  def setMaxDepth(value: Int): this.type = set(maxDepth, value)
  def setMinNodeSize(value: Int): this.type = set(minNodeSize, value)
  def setMaxBins(value: Int): this.type = set(maxBins, value)
  def setMaxMemoryMB(value: Int): this.type = set(maxMemoryMB, value)
  def setBoundarySampleSize(value: Int): this.type = set(boundarySampleSize, value)
  def setScoringBatchSize(value: Int): this.type = set(scoringBatchSize, value)
  def setBoundaryStrategy(value: String): this.type = set(boundaryStrategy, value)
  def setRowIdCol(value: String): this.type = set(rowIdCol, value)
  def setNativeThreads(value: Int): this.type = set(nativeThreads, value)
  def setCrossFitFolds(value: Int): this.type = set(crossFitFolds, value)
  def setPropensityFloor(value: Double): this.type = set(propensityFloor, value)
  def setPropensityModel(value: String): this.type = set(propensityModel, value)
  def setOutcomeMaxDepth(value: Int): this.type = set(outcomeMaxDepth, value)
  def setOutcomeMinNodeSize(value: Int): this.type = set(outcomeMinNodeSize, value)
  def setHandleInvalid(value: String): this.type = set(handleInvalid, value)

  private var outcomeModel: Option[Estimator[_]] = None

  /**
   * Any Spark ML regressor as the AIPW outcome model instead of the native trees: fitted per (fold, arm)
   * on the fold's complement. Saved with the learner (under `outcomeModel/`; it must be MLWritable);
   * outside the semantic contract when the regressor's fit depends on the data's layout (see docs/contract.md).
   */
  def setOutcomeModel(value: Estimator[_]): this.type = { outcomeModel = Option(value); this }
  def getOutcomeModel: Option[Estimator[_]] = outcomeModel

  /** Locks the split boundaries (one strictly increasing array per feature, featureCols order). */
  def setBoundaries(value: Array[Array[Double]]): this.type = set(boundaries, value)

  /** Locks everything a contract fixes: feature order, treatment vocabulary, category codes and boundaries. */
  def setContract(contract: Contract): this.type = {
    set(featureCols, contract.featureNames.toArray)
    val categorical = contract.features.filter(_.isCategorical)
    set(categoricalCols, categorical.map(_.name).toArray)
    setCategoryOrders(categorical.map(f => f.name -> f.categories.get.toArray).toMap)
    set(treatmentVocabulary, contract.vocabulary.toArray)
    set(boundaries, contract.boundaries.map(_.toArray).toArray)
  }

  private def opt[T](p: org.apache.spark.ml.param.Param[T]): Option[T] = get(p)

  override def fit(dataset: Dataset[_]): PolicyTreeModel = {
    if (!isDefined(featureCols)) throw new IllegalArgumentException("featureCols is not set")
    val spec = InputSpec($(featureCols), opt(treatmentCol), opt(rewardCols), opt(outcomeCol), opt(propensityCol),
      opt(rewardType), opt(treatmentVocabulary), opt(rowIdCol), $(handleInvalid),
      AipwSettings($(crossFitFolds), $(propensityFloor), $(propensityModel), $(outcomeMaxDepth), $(outcomeMinNodeSize), outcomeModel),
      getCategoricalCols, getCategoryOrdersMap)
    val all = dataset.toDF()
    TrainingData.validateFeatures(all.schema, $(featureCols), getCategoricalCols)
    // One persisted projection of the columns the fit reads: every pass sees the same rows, computed once.
    val df = all.select(TrainingData.sourceColumns(spec).filter(all.columns.contains).map(TrainingData.userCol): _*)
      .persist(StorageLevel.MEMORY_AND_DISK)
    val threads = if ($(nativeThreads) > 0) $(nativeThreads) else df.sparkSession.sparkContext.getConf.getInt("spark.task.cpus", 1)
    val settings = TreeSettings($(maxDepth), $(minNodeSize), $(maxBins), $(maxMemoryMB), $(boundarySampleSize),
      $(boundaryStrategy), threads)
    try {
      val trained = TreeTrainer.fit(df, spec, settings, opt(boundaries))
      // The training output signature scores the training rows with the finished model.
      val draft = copyValues(new PolicyTreeModel(uid, trained, trainingOutputSignature = ""))
      val output = draft.outputSignature(df)
      // The model records the reward type the fit resolved (e.g. the AIPW default).
      copyValues(new PolicyTreeModel(uid, trained, output).setParent(this)).set(rewardType, trained.rewardType)
    } finally df.unpersist(blocking = false)
  }

  override def transformSchema(schema: StructType): StructType = {
    if (isDefined(featureCols)) TrainingData.validateFeatures(schema, $(featureCols), getCategoricalCols)
    PolicyTreeModel.outputSchema(schema)
  }

  /** Saves the outcome regressor too, if set; fails if it cannot be saved. */
  override def write: MLWriter = new OutcomeModelPersistence.Writer(this, outcomeModel, super.write)

  override def copy(extra: ParamMap): PolicyTreeLearner = {
    val c = defaultCopy[PolicyTreeLearner](extra)
    c.outcomeModel = outcomeModel
    c
  }
}

object PolicyTreeLearner extends DefaultParamsReadable[PolicyTreeLearner] {
  /** The Params, then the outcome regressor saved with them (`OutcomeModelPersistence`). */
  override def read: MLReader[PolicyTreeLearner] = new OutcomeModelPersistence.Reader[PolicyTreeLearner](super.read, _.setOutcomeModel(_))
}

package org.sparkpolicy.ml

import org.apache.spark.ml.Estimator
import org.apache.spark.ml.param.ParamMap
import org.apache.spark.ml.util.{DefaultParamsReadable, DefaultParamsWritable, Identifiable, MLReader, MLWriter}
import org.apache.spark.sql.{DataFrame, Dataset}
import org.apache.spark.sql.types.StructType
import org.sparkpolicy.contract.{Contract, Signatures}
import org.sparkpolicy.ml.params.{HasAipwSettings, HasBinning, HasCategoricalFeatures, HasNativeResources, HasOutcomeModel, HasPolicyFeatures,
  HasRewardInputs, HasScoringBatch, HasTreeGrowth}
import org.sparkpolicy.rewards.AipwRewards
import org.sparkpolicy.ml.model.PolicyOutputColumns
import org.sparkpolicy.train.{InputPersistence, InputSpec, TrainedTree, TrainingData, TreeSettings, TreeTrainer}

/**
 * Learns a shallow policy tree that picks one of K arms per row to maximize the summed reward Γ.
 * The tree is grown level by level — greedily (`searchDepth = 1`), or with `searchDepth = 2` each split the
 * root of the node's best depth-2 subtree (policytree's `hybrid_policy_tree`; exact for `maxDepth = 2`) — with
 * policytree's split criterion (best-arm sum left plus best-arm sum right), thresholds exact over every
 * distinct sample value (`thresholdSearch`, docs/contract.md), on native
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
    extends Estimator[PolicyTreeModel] with HasPolicyFeatures[PolicyTreeLearner]
    with HasCategoricalFeatures[PolicyTreeLearner] with HasRewardInputs[PolicyTreeLearner]
    with HasAipwSettings[PolicyTreeLearner] with HasTreeGrowth[PolicyTreeLearner] with HasBinning[PolicyTreeLearner]
    with HasNativeResources[PolicyTreeLearner] with HasScoringBatch[PolicyTreeLearner] with HasOutcomeModel with DefaultParamsWritable {

  def this() = this(Identifiable.randomUID("policyTreeLearner"))

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
    val native = nativeResources(dataset.sparkSession.sparkContext)
    val spec = InputSpec($(featureCols), opt(treatmentCol), opt(rewardCols), opt(outcomeCol), opt(propensityCol),
      opt(rewardType), opt(treatmentVocabulary), opt(rowIdCol), $(handleInvalid),
      aipwSettings(getOutcomeModel, native),
      getCategoricalCols, getCategoryOrdersMap)
    val settings = TreeSettings($(maxDepth), $(minNodeSize), $(maxBins), native.maxMemoryMB, $(boundarySampleSize),
      $(boundaryStrategy), native.threads, $(thresholdSearch), $(searchDepth), TreeSettings.siblingSubtraction(dataset.sparkSession),
      $(refineBins))
    FitProjection.using(dataset, spec) { df =>
      val fitted = TreeTrainer.fit(df, spec, settings, opt(boundaries), AipwRewards.training)
      val (trained, output) = trainingOutput(fitted, df, spec)
      // The model records the reward type the fit resolved (e.g. the AIPW default).
      copyValues(new PolicyTreeModel(uid, trained, output).setParent(this)).set(rewardType, trained.rewardType)
    }
  }

  /**
   * The training output signature: the fit signed the rows in its blocks from them; rows that
   * `handleInvalid = "skip"` left out of the blocks are scored here (one more pass over them), so the
   * signature covers every input row, as `model.outputSignature(df)` does.
   */
  private def trainingOutput(trained: TrainedTree, df: DataFrame, spec: InputSpec): (TrainedTree, String) = {
    val rows = new Signatures.RowHashes().merge(trained.outputRows.get)
    if (trained.droppedRows == 0) (trained, Signatures.outputSignature(rows))
    else {
      val started = System.nanoTime()
      val draft = copyValues(new PolicyTreeModel(uid, trained, trainingOutputSignature = ""))
      val left = draft.transform(df.where(TrainingData.invalidRows(spec).get))
      rows.merge(Signatures.outputHashes(left, trained.contract, PolicyOutputColumns.ActionIndex, PolicyOutputColumns.Scores))
      val ms = (System.nanoTime() - started) / 1000000
      val phases = trained.phaseMillis.map { case (p, t) => p -> (if (p == "signatures") t + ms else t) }
      (trained.copy(phaseMillis = phases), Signatures.outputSignature(rows))
    }
  }

  override def transformSchema(schema: StructType): StructType = {
    if (isDefined(featureCols)) TrainingData.validateFeatures(schema, $(featureCols), getCategoricalCols)
    PolicyTreeModel.outputSchema(schema)
  }

  /** Saves the outcome regressor too, if set; fails if it cannot be saved. */
  override def write: MLWriter = new OutcomeModelPersistence.Writer(this, getOutcomeModel, super.write)

  override def copy(extra: ParamMap): PolicyTreeLearner = copyOutcomeModelTo(defaultCopy[PolicyTreeLearner](extra))
}

object PolicyTreeLearner extends DefaultParamsReadable[PolicyTreeLearner] {
  /**
   * Session conf: whether a fit persists the projection of the columns it reads, so the source is read
   * once: "true", "false", or "auto" (the default: not for files, cached or local data, which are cheaper
   * to read twice than to copy; `train.InputPersistence`). Read twice, the source must give the same rows
   * both times (the fit checks their count).
   */
  val PersistInputConf: String = InputPersistence.Conf

  /** The Params, then the outcome regressor saved with them (`OutcomeModelPersistence`). */
  override def read: MLReader[PolicyTreeLearner] = new OutcomeModelPersistence.Reader[PolicyTreeLearner](super.read, _.setOutcomeModel(_))
}

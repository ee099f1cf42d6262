package org.sparkpolicy.ml

import org.apache.spark.ml.Estimator
import org.apache.spark.ml.param.ParamMap
import org.apache.spark.ml.util.{DefaultParamsReadable, DefaultParamsWritable, Identifiable, MLReader, MLWriter}
import org.apache.spark.sql.{DataFrame, Dataset}
import org.apache.spark.sql.types.StructType
import org.sparkpolicy.contract.Signatures
import org.sparkpolicy.ml.model.PolicyOutputColumns
import org.sparkpolicy.ml.params.{HasAipwSettings, HasBinning, HasCategoricalFeatures, HasForestSettings, HasNativeResources, HasOutcomeModel,
  HasPolicyFeatures, HasRewardInputs, HasScoringBatch, HasTreeGrowth}
import org.sparkpolicy.rewards.AipwRewards
import org.sparkpolicy.train.{ForestSettings, ForestTrainer, InputSpec, TrainedForest, TrainingData, TreeSettings}

/**
 * Learns a policy forest (as EconML's `PolicyForest`): `numTrees` policy trees, each grown greedily with the
 * tree learner's criterion on a `subsamplingRate` share of the rows and, per node, a `featureSubsetStrategy`
 * share of the features, honest by default; every random choice is a hash of the row's content (or
 * `rowIdCol`), the tree id and `seed`, so the forest is the same in any layout. All trees grow together: one
 * collect-less pass over the native blocks per level for every tree's frontier. Thresholds are exact as a
 * tree's by default (`thresholdSearch = "exact"`: each level is searched on a coarse grid of `maxBins`, and
 * the coarse bins that can hold a better split, up to `refineBins` a node, are refined at full resolution in
 * one more pass for every tree, on each tree's own rows); `"binned"` searches only the `maxBins` quantile thresholds. Trees grow greedily (`searchDepth = 1`).
 *
 * {{{
 * val forest = new PolicyForestLearner()
 *   .setFeatureCols(Array("recency", "history"))
 *   .setRewardCols(Array("g0", "g1", "g2"))
 *   .setNumTrees(100).setMaxDepth(3)
 *   .fit(train)
 * }}}
 */
class PolicyForestLearner(override val uid: String)
    extends Estimator[PolicyForestModel] with HasPolicyFeatures[PolicyForestLearner]
    with HasCategoricalFeatures[PolicyForestLearner] with HasRewardInputs[PolicyForestLearner]
    with HasAipwSettings[PolicyForestLearner] with HasTreeGrowth[PolicyForestLearner] with HasBinning[PolicyForestLearner]
    with HasNativeResources[PolicyForestLearner] with HasForestSettings[PolicyForestLearner]
    with HasScoringBatch[PolicyForestLearner] with HasOutcomeModel with DefaultParamsWritable {

  def this() = this(Identifiable.randomUID("policyForestLearner"))

  private def opt[T](p: org.apache.spark.ml.param.Param[T]): Option[T] = get(p)

  override def fit(dataset: Dataset[_]): PolicyForestModel = {
    if (!isDefined(featureCols)) throw new IllegalArgumentException("featureCols is not set")
    if ($(searchDepth) != 1)
      throw new IllegalArgumentException(s"searchDepth ${$(searchDepth)} is not available for forests yet: a forest's trees are " +
        "grown greedily (searchDepth 1)")
    val native = nativeResources(dataset.sparkSession.sparkContext)
    val spec = InputSpec($(featureCols), opt(treatmentCol), opt(rewardCols), opt(outcomeCol), opt(propensityCol),
      opt(rewardType), opt(treatmentVocabulary), opt(rowIdCol), $(handleInvalid), aipwSettings(getOutcomeModel, native),
      getCategoricalCols, getCategoryOrdersMap)
    val settings = TreeSettings($(maxDepth), $(minNodeSize), $(maxBins), native.maxMemoryMB, $(boundarySampleSize),
      $(boundaryStrategy), native.threads, $(thresholdSearch), $(searchDepth), TreeSettings.siblingSubtraction(dataset.sparkSession),
      $(refineBins))
    val forest = ForestSettings($(numTrees), $(subsamplingRate), $(featureSubsetStrategy), $(honest), $(seed))
    FitProjection.using(dataset, spec) { df =>
      val trained = ForestTrainer.fit(df, spec, settings, forest, opt(boundaries), AipwRewards.training)
      copyValues(new PolicyForestModel(uid, trained, trainingOutput(trained, df, spec)).setParent(this))
        .set(rewardType, trained.rewardType)
    }
  }

  /** The training output signature: the blocks' rows signed by the fit, and rows `handleInvalid = "skip"` left out, scored here. */
  private def trainingOutput(trained: TrainedForest, df: DataFrame, spec: InputSpec): String = {
    val rows = new Signatures.RowHashes().merge(trained.outputRows.get)
    if (trained.droppedRows > 0) {
      val draft = copyValues(new PolicyForestModel(uid, trained, ""))
      rows.merge(Signatures.outputHashes(draft.transform(df.where(TrainingData.invalidRows(spec).get)), trained.contract,
        PolicyOutputColumns.ActionIndex, PolicyOutputColumns.Scores))
    }
    Signatures.outputSignature(rows)
  }

  override def transformSchema(schema: StructType): StructType = {
    if (isDefined(featureCols)) TrainingData.validateFeatures(schema, $(featureCols), getCategoricalCols)
    PolicyForestModel.outputSchema(schema)
  }

  /** Saves the outcome regressor too, if set; fails if it cannot be saved. */
  override def write: MLWriter = new OutcomeModelPersistence.Writer(this, getOutcomeModel, super.write)

  override def copy(extra: ParamMap): PolicyForestLearner = copyOutcomeModelTo(defaultCopy[PolicyForestLearner](extra))
}

object PolicyForestLearner extends DefaultParamsReadable[PolicyForestLearner] {
  /** The Params, then the outcome regressor saved with them (`OutcomeModelPersistence`). */
  override def read: MLReader[PolicyForestLearner] = new OutcomeModelPersistence.Reader[PolicyForestLearner](super.read, _.setOutcomeModel(_))
}

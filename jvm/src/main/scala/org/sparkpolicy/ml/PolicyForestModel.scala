package org.sparkpolicy.ml

import org.apache.spark.ml.Model
import org.apache.spark.ml.linalg.{Vector, Vectors}
import org.apache.spark.ml.param.ParamMap
import org.apache.spark.ml.util.{Identifiable, MLReadable, MLReader, MLWritable, MLWriter}
import org.apache.spark.sql.{DataFrame, Dataset}
import org.apache.spark.sql.types._
import org.sparkpolicy.contract.{Contract, Signatures}
import org.sparkpolicy.ml.model.{NodeTable, PolicyOutputColumns}
import org.sparkpolicy.ml.params.{HasAipwSettings, HasBinning, HasForestSettings, HasNativeResources, HasPolicyFeatures,
  HasRewardInputs, HasScoringBatch, HasTreeGrowth}
import org.sparkpolicy.bridge.{NodeTableIpc, ScoringPayload}
import org.sparkpolicy.score.{ScoringPlan, ScoringSpec, SqlExpression}
import org.sparkpolicy.train.TrainedForest

/**
 * A learned policy forest. `transform` appends `policy_action` (arm label), `policy_action_index`,
 * `policy_scores` (per arm, the mean over the trees of their leaf's mean Γ, vocabulary order) and
 * `policy_leaves` (each tree's leaf heap id, tree order); the action is the first arm with the largest score.
 */
class PolicyForestModel private[sparkpolicy] (
    override val uid: String,
    private val fitted: TrainedForest,
    private val trainingOutputSignature: String)
    extends Model[PolicyForestModel] with HasPolicyFeatures[PolicyForestModel] with HasRewardInputs[PolicyForestModel]
    with HasAipwSettings[PolicyForestModel] with HasTreeGrowth[PolicyForestModel] with HasBinning[PolicyForestModel]
    with HasNativeResources[PolicyForestModel] with HasForestSettings[PolicyForestModel] with HasScoringBatch[PolicyForestModel]
    with MLWritable {

  private[sparkpolicy] def this(uid: String) = this(uid, null, null)
  private[sparkpolicy] def this() = this(Identifiable.randomUID("policyForestModel"))

  private def trained: TrainedForest = {
    if (fitted == null)
      throw new IllegalStateException(s"PolicyForestModel $uid holds no trees: it was created empty; get a usable model from " +
        "PolicyForestLearner.fit or PolicyForestModel.load")
    fitted
  }

  override def write: MLWriter = new PolicyForestModelWriter(this, trained, trainingOutputSignature)

  private[ml] def setDefaultValue[T](p: org.apache.spark.ml.param.Param[T], value: T): Unit = setDefault(p, value)

  def getNumTreesFitted: Int = trained.trees.size

  /** The trees' node tables, in tree order. */
  def nodeTables: Seq[NodeTable] = trained.trees

  /**
   * The member trees as `PolicyTreeModel`s (each scores as a tree alone). They share the forest's contract and
   * input signature; a member has no training output signature of its own (its `signatures("output")` is empty).
   */
  lazy val trees: Array[PolicyTreeModel] = trained.trees.indices.map { t =>
    val m = new PolicyTreeModel(s"${uid}_tree$t", trained.member(t), "")
    m.set(m.featureCols, $(featureCols)).set(m.rewardType, trained.rewardType).set(m.maxDepth, $(maxDepth))
  }.toArray

  def contract: Contract = trained.contract

  def getTreatmentVocabulary: Array[String] = trained.vocabulary

  /** The best constant arm on all the training rows (the baseline a policy must beat; `PolicyValueEvaluator.setModel`). */
  def bestArmOnTraining: String = {
    if (trained.bestArm < 0) throw new IllegalStateException(s"PolicyForestModel $uid was saved without its training best arm")
    trained.vocabulary(trained.bestArm)
  }

  def splitBoundaries: Array[Array[Double]] = trained.contract.boundaries.map(_.toArray).toArray

  /** The features each node could split on, as resolved from `featureSubsetStrategy` for this data. */
  def featureSubsetSize: Int = trained.featureSubsetSize

  /** The fit's phases (`validate`, `boundaries`, `aipw`, `binning`, `levels`, `estimation`, `signatures`) in milliseconds. */
  def phaseMillis: Map[String, Long] = scala.collection.immutable.ListMap(trained.phaseMillis: _*)

  /** Per level, the cost of all the trees' histograms together. */
  def levelStats: Seq[org.sparkpolicy.ml.model.LevelStats] = trained.levels

  /**
   * As MLlib's forests: each tree's summed split gains per feature, normalised to sum 1 per tree, then summed
   * over the trees and normalised again (all zeros when no tree splits).
   */
  def featureImportances: Vector = {
    val nFeatures = trained.contract.features.size
    val total = new Array[Double](nFeatures)
    trained.decisions.foreach { log =>
      val gains = new Array[Double](nFeatures)
      log.filter(_.split).foreach(d => gains(d.feature) += d.gain)
      val sum = gains.sum
      if (sum > 0) gains.indices.foreach(f => total(f) += gains(f) / sum)
    }
    val sum = total.sum
    Vectors.dense(if (sum > 0) total.map(_ / sum) else total)
  }

  /** `manifest`, `boundaries`, `model` (every tree's content hash), `decisions` (every tree's log), `input`, `output`. */
  def signatures: java.util.Map[String, String] = {
    val m = new java.util.LinkedHashMap[String, String]()
    m.put("manifest", trained.contract.manifestSignature)
    m.put("boundaries", trained.contract.boundariesSignature)
    m.put("model", trained.modelSignature)
    m.put("decisions", trained.decisionsSignature)
    m.put("input", trained.inputSignature)
    m.put("output", trainingOutputSignature)
    java.util.Collections.unmodifiableMap(m)
  }

  def inputSignature(df: Dataset[_]): String = Signatures.input(df.toDF(), trained.contract)

  def outputSignature(df: Dataset[_]): String = outputSignatureOfScored(transform(df))

  /** The same signature for a DataFrame scored by any backend (e.g. `transformWithSql`). */
  def outputSignatureOfScored(scored: Dataset[_]): String =
    Signatures.output(scored.toDF(), trained.contract, PolicyOutputColumns.ActionIndex, PolicyOutputColumns.Scores)

  override def toString: String =
    if (fitted == null) s"PolicyForestModel: uid=$uid, empty"
    else s"PolicyForestModel: uid=$uid, numTrees=${trained.trees.size}, arms=${trained.vocabulary.length}"

  def toDebugString: String = {
    val names = trained.contract.featureNames
    val arms = trained.vocabulary.toSeq
    (s"$toString\n" +: trained.trees.zipWithIndex.map { case (tree, t) =>
      s"Tree $t:\n" + tree.render(names, arms, trained.contract.features(_).categories)
    }).mkString
  }

  override def transformSchema(schema: StructType): StructType =
    ModelTransform.schema(schema, $(featureCols), trained.contract, forest = true)

  @transient @volatile private var unseen: org.apache.spark.util.LongAccumulator = _

  /** Categorical values unseen in training that the latest `transform` scored as missing (as `PolicyTreeModel`'s). */
  def unseenCategoryCount: Long = Option(unseen).map(_.value.longValue).getOrElse(0L)

  /**
   * Scores natively in the same plan node as a tree: only the features some tree splits on go to the scorer,
   * every tree renumbered to match, the forest compiled once per executor JVM.
   */
  override def transform(dataset: Dataset[_]): DataFrame = {
    val outSchema = transformSchema(dataset.schema)
    val df = dataset.toDF()
    val read = trained.trees.flatMap(_.splitFeatures).distinct.sorted
    val trees = trained.trees.map(_.onFeatures(read))
    val categories = read.map(trained.contract.features(_).categories.map(_.toArray)).toArray
    val accumulator = ModelTransform.unseenCounter(df.sparkSession.sparkContext, uid, categories)
    if (accumulator != null) unseen = accumulator
    // The renumbering is a function of the trees, so the forest's model signature identifies the compiled trees.
    val hash = trained.modelSignature
    val payload = ScoringPayload(NodeTableIpc.encodeAll(trees), hash, read.length, trained.vocabulary.length, trees.size)
    val spec = ScoringSpec(uid, hash, df.sparkSession.sparkContext.broadcast(payload), trained.vocabulary, $(scoringBatchSize),
      categories, accumulator)
    ScoringPlan.transform(df, read.map($(featureCols)(_)), outSchema, spec)
  }

  /**
   * The forest as one Spark SQL expression yielding struct(policy_action, policy_action_index, policy_scores,
   * policy_leaves), bit-identical to `transform`; at most `SqlExpression.MaxForestNodes` nodes in all.
   */
  def toSqlExpression: String = SqlExpression.forest(trained.trees, trained.contract.featureNames, trained.vocabulary.toSeq,
    trained.contract.features(_).categories)

  /** `transform` through the pure-SQL backend: same columns, bit-identical values, no native code. */
  def transformWithSql(dataset: Dataset[_]): DataFrame = {
    transformSchema(dataset.schema)
    ModelTransform.withSql(dataset, toSqlExpression, forest = true)
  }

  override def copy(extra: ParamMap): PolicyForestModel =
    copyValues(new PolicyForestModel(uid, fitted, trainingOutputSignature), extra).setParent(parent)
}

object PolicyForestModel extends MLReadable[PolicyForestModel] {
  /** Each tree's leaf heap id, in tree order. */
  val Leaves: String = PolicyOutputColumns.Leaves

  override def read: MLReader[PolicyForestModel] = new PolicyForestModelReader

  override def load(path: String): PolicyForestModel = super.load(path)

  private[sparkpolicy] def outputSchema(schema: StructType): StructType = ModelTransform.outputSchema(schema, forest = true)

}

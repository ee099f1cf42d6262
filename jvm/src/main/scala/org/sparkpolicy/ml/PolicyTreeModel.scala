package org.sparkpolicy.ml

import org.apache.spark.ml.Model
import org.apache.spark.ml.param.ParamMap
import org.apache.spark.ml.util.{Identifiable, MLReadable, MLReader, MLWritable, MLWriter}
import org.apache.spark.sql.{DataFrame, Dataset}
import org.apache.spark.sql.types._
import org.sparkpolicy.bridge.{NodeTableIpc, ScoringPayload}
import org.sparkpolicy.contract.{Contract, Signatures}
import org.sparkpolicy.ml.model.{NodeTable, PolicyOutputColumns, SplitDecision}
import org.sparkpolicy.ml.params.{HasAipwSettings, HasBinning, HasNativeResources, HasPolicyFeatures, HasRewardInputs,
  HasScoringBatch, HasTreeGrowth}
import org.sparkpolicy.score.{ScoringPlan, ScoringSpec, SqlExpression}
import org.sparkpolicy.train.TrainedTree

/**
 * A learned policy tree. `transform` appends `policy_action` (arm label), `policy_action_index`,
 * `policy_scores` (the leaf's mean Γ per arm, vocabulary order) and `policy_leaf` (heap node id),
 * scoring partitions natively in Arrow batches. `transformWithSql` does the same with a pure Spark
 * SQL expression and agrees bit for bit.
 */
class PolicyTreeModel private[sparkpolicy] (
    override val uid: String,
    private val fitted: TrainedTree,
    private val trainingOutputSignature: String)
    extends Model[PolicyTreeModel] with HasPolicyFeatures[PolicyTreeModel] with HasRewardInputs[PolicyTreeModel]
    with HasAipwSettings[PolicyTreeModel] with HasTreeGrowth[PolicyTreeModel] with HasBinning[PolicyTreeModel]
    with HasNativeResources[PolicyTreeModel] with HasScoringBatch[PolicyTreeModel] with MLWritable {

  // For Spark Connect only: its ServiceLoader rejects a registered class without a public no-arg
  // constructor (failing every ML call on the server), and it builds plain transformers with `(uid)`.
  // Such a model has no tree; usable models come from `fit` or `load`. (Public in bytecode, as Spark's own.)
  private[sparkpolicy] def this(uid: String) = this(uid, null, null)
  private[sparkpolicy] def this() = this(Identifiable.randomUID("policyTreeModel"))

  /** The fitted tree; a model built by the Connect constructors has none and says so instead of failing with a null. */
  private def trained: TrainedTree = {
    if (fitted == null)
      throw new IllegalStateException(s"PolicyTreeModel $uid holds no tree: it was created empty (as Spark Connect's loader " +
        "does); get a usable model from PolicyTreeLearner.fit or PolicyTreeModel.load")
    fitted
  }

  /** Saves in Spark ML's layout: metadata JSON (params, contract, signatures) and the node table as Parquet. */
  override def write: MLWriter = new PolicyTreeModelWriter(this, trained, trainingOutputSignature)

  private[ml] def setDefaultValue[T](p: org.apache.spark.ml.param.Param[T], value: T): Unit = setDefault(p, value)

  /** The tree as a flat node table in heap numbering. */
  def nodeTable: NodeTable = trained.tree

  def depth: Int = trained.tree.depth

  def numNodes: Int = trained.tree.numNodes

  /** The semantic contract: feature order and types, vocabulary, manifest, boundaries, reward definition. */
  def contract: Contract = trained.contract

  /** The resolved arm labels, in the order of `policy_scores` and `policy_action_index`. */
  def getTreatmentVocabulary: Array[String] = trained.vocabulary

  /** Split boundaries per feature, in `featureCols` order (the locked or computed ones). */
  def splitBoundaries: Array[Array[Double]] = trained.boundaries

  /** The best constant arm on the training data (the root's best arm). */
  def bestArmOnTraining: String = trained.vocabulary(trained.bestArmOnTraining)

  lazy val trainingSummary: PolicyTreeTrainingSummary =
    new PolicyTreeTrainingSummary(trained.levels, trained.decisions, trained.nRows, trained.rewardType, trained.rewardShift,
      trained.droppedRows, trained.clippedPropensities, scala.collection.immutable.ListMap(trained.phaseMillis: _*))

  /** Every level's split decision per node, with gain and runner-up. */
  def trainingLog: Seq[SplitDecision] = trained.decisions

  /** SHA-256 of the canonical node table. */
  def modelHash: String = trained.tree.contentHash

  /**
   * The six signatures (SHA-256 hex): `manifest`, `boundaries`, `model`, `decisions`, and `input` and
   * `output` of the training data. Same contract and rows ⇒ the same signatures in any layout.
   */
  def signatures: java.util.Map[String, String] = {
    val m = new java.util.LinkedHashMap[String, String]()
    m.put("manifest", trained.contract.manifestSignature)
    m.put("boundaries", trained.contract.boundariesSignature)
    m.put("model", trained.tree.contentHash)
    m.put("decisions", trained.decisionsSignature)
    m.put("input", trained.inputSignature)
    m.put("output", trainingOutputSignature)
    java.util.Collections.unmodifiableMap(m)
  }

  /** Order-independent signature of `df`'s contract columns (features and the reward's source columns). */
  def inputSignature(df: Dataset[_]): String = Signatures.input(df.toDF(), trained.contract)

  /** Scores `df` natively and signs (row key, action, score bits), order-independently. */
  def outputSignature(df: Dataset[_]): String =
    Signatures.output(transform(df), trained.contract, PolicyOutputColumns.ActionIndex, PolicyOutputColumns.Scores)

  /** The same signature for a DataFrame scored by any backend (e.g. `transformWithSql`). */
  def outputSignatureOfScored(scored: Dataset[_]): String =
    Signatures.output(scored.toDF(), trained.contract, PolicyOutputColumns.ActionIndex, PolicyOutputColumns.Scores)

  override def toString: String =
    if (fitted == null) s"PolicyTreeModel: uid=$uid, empty"
    else s"PolicyTreeModel: uid=$uid, depth=$depth, numNodes=$numNodes, arms=${trained.vocabulary.length}"

  def toDebugString: String = s"$toString\n" + trained.tree.render(trained.contract.featureNames, trained.vocabulary.toSeq, categoriesOf)

  private def categoriesOf(f: Int): Option[Seq[String]] = trained.contract.features(f).categories

  @transient @volatile private var unseen: org.apache.spark.util.LongAccumulator = _

  /**
   * Categorical values unseen in training that the latest native `transform` of this model scored as
   * missing (the split's missing side), across all its tasks, in the features some split reads. Counted when an action computes the
   * output (e.g. after `count()` or a write); 0 before. A retried or re-computed task adds again, as
   * any Spark accumulator updated in a transformation does. Each task with unseen values also logs
   * a warning on its executor.
   */
  def unseenCategoryCount: Long = Option(unseen).map(_.value.longValue).getOrElse(0L)

  /** Checks the input against the contract: every feature present with its training type. */
  override def transformSchema(schema: StructType): StructType =
    ModelTransform.schema(schema, $(featureCols), trained.contract, forest = false)

  override def transform(dataset: Dataset[_]): DataFrame = {
    val outSchema = transformSchema(dataset.schema)
    val df = dataset.toDF()
    // Only the columns some split reads go to the scorer (a shallow tree reads few), with the tree renumbered to match.
    val read = trained.tree.splitFeatures
    val tree = trained.tree.onFeatures(read)
    val featureNames = read.map($(featureCols)(_))
    val categories = read.map(trained.contract.features(_).categories.map(_.toArray)).toArray
    val accumulator = ModelTransform.unseenCounter(df.sparkSession.sparkContext, uid, categories)
    if (accumulator != null) unseen = accumulator
    val payload = ScoringPayload(NodeTableIpc.encode(tree), tree.contentHash, read.length, trained.vocabulary.length)
    val spec = ScoringSpec(uid, tree.contentHash, df.sparkSession.sparkContext.broadcast(payload), trained.vocabulary,
      $(scoringBatchSize), categories, accumulator)
    ScoringPlan.transform(df, featureNames, outSchema, spec)
  }

  /** The tree as one Spark SQL expression yielding struct(policy_action, policy_action_index, policy_scores, policy_leaf). */
  def toSqlExpression: String = SqlExpression.of(trained.tree, trained.contract.featureNames, trained.vocabulary.toSeq, categoriesOf)

  /** `transform` through the pure-SQL backend: same columns, bit-identical values, no native code. */
  def transformWithSql(dataset: Dataset[_]): DataFrame = {
    transformSchema(dataset.schema)
    ModelTransform.withSql(dataset, toSqlExpression, forest = false)
  }

  override def copy(extra: ParamMap): PolicyTreeModel =
    copyValues(new PolicyTreeModel(uid, fitted, trainingOutputSignature), extra).setParent(parent)
}

object PolicyTreeModel extends MLReadable[PolicyTreeModel] {
  override def read: MLReader[PolicyTreeModel] = new PolicyTreeModelReader

  override def load(path: String): PolicyTreeModel = super.load(path)

  private[sparkpolicy] def outputSchema(schema: StructType): StructType = ModelTransform.outputSchema(schema, forest = false)

}

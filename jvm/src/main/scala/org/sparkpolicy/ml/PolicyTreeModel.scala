package org.sparkpolicy.ml

import org.apache.spark.ml.Model
import org.apache.spark.ml.param.ParamMap
import org.apache.spark.ml.util.Identifiable
import org.apache.spark.sql.{DataFrame, Dataset, Encoders, Row}
import org.apache.spark.sql.functions.col
import org.apache.spark.sql.types._
import org.sparkpolicy.exec._

/** What a fit recorded: per-level costs (including how many records reached the driver) and the split decisions. */
final class PolicyTreeTrainingSummary private[sparkpolicy] (
    val levels: Seq[LevelStats],
    val decisions: Seq[SplitDecision],
    val numRows: Long,
    val rewardType: String,
    val rewardShift: Int) extends Serializable {
  /** Resolution of the fixed-point rewards: each row's Γ is rounded to a multiple of this. */
  def rewardResolution: Double = math.pow(2.0, -rewardShift)
}

/**
 * A learned policy tree. `transform` appends `policy_action` (arm label), `policy_action_index`,
 * `policy_scores` (the leaf's mean Γ per arm, vocabulary order) and `policy_leaf` (heap node id),
 * scoring partitions natively in Arrow batches.
 */
class PolicyTreeModel private[sparkpolicy] (override val uid: String, private val trained: TrainedTree)
    extends Model[PolicyTreeModel]
    with HasPolicyFeatures with HasRewardInputs with HasTreeGrowth with HasScoringBatch {

  /** The tree as a flat node table in heap numbering. */
  def nodeTable: NodeTable = trained.tree

  def depth: Int = trained.tree.depth

  def numNodes: Int = trained.tree.numNodes

  /** The resolved arm labels, in the order of `policy_scores` and `policy_action_index`. */
  def getTreatmentVocabulary: Array[String] = trained.vocabulary.clone()

  /** Split boundaries per feature, in `featureCols` order. */
  def boundaries: Array[Array[Double]] = trained.boundaries.map(_.clone())

  /** The best constant arm on the training data. */
  def bestArmOnTraining: String = trained.vocabulary(trained.bestArmOnTraining)

  lazy val trainingSummary: PolicyTreeTrainingSummary =
    new PolicyTreeTrainingSummary(trained.levels, trained.decisions, trained.nRows, trained.rewardType, trained.rewardShift)

  /** SHA-256 of the canonical node table. */
  def modelHash: String = trained.tree.contentHash

  override def toString: String = s"PolicyTreeModel: uid=$uid, depth=$depth, numNodes=$numNodes, arms=${trained.vocabulary.length}"

  def toDebugString: String = s"$toString\n" + trained.tree.render($(featureCols).toSeq, trained.vocabulary.toSeq)

  override def transformSchema(schema: StructType): StructType = {
    TrainingData.validateFeatures(schema, $(featureCols))
    PolicyTreeModel.outputSchema(schema)
  }

  override def transform(dataset: Dataset[_]): DataFrame = {
    val outSchema = transformSchema(dataset.schema)
    val df = dataset.toDF()
    val keep = df.columns.length
    // Features cast to double in SQL, appended behind the user's columns, so each row reads plain doubles.
    val features = $(featureCols).toSeq.zipWithIndex.map { case (c, i) => col(c).cast(DoubleType).as(s"__sparkpolicy_x$i") }
    val withFeatures = df.select(df.columns.toSeq.map(c => df.col(s"`$c`")) ++ features: _*)
    val featureIdx = Array.tabulate($(featureCols).length)(keep + _)
    val payload = ScoringPayload(trained.tree.toArrowIpc, trained.tree.contentHash, $(featureCols).length, trained.vocabulary.length)
    val bc = df.sparkSession.sparkContext.broadcast(payload)
    val vocabulary = trained.vocabulary
    val batchRows = $(scoringBatchSize)
    withFeatures.mapPartitions(rows => PartitionScorer.score(rows, bc.value, vocabulary, featureIdx, keep, batchRows))(
      Encoders.row(outSchema))
  }

  override def copy(extra: ParamMap): PolicyTreeModel = copyValues(new PolicyTreeModel(uid, trained), extra).setParent(parent)
}

object PolicyTreeModel {
  private[sparkpolicy] def outputSchema(schema: StructType): StructType = {
    PolicyOutputColumns.All.foreach { c =>
      if (schema.fieldNames.contains(c)) throw new IllegalArgumentException(s"input already has a column named '$c'; rename or drop it")
    }
    schema
      .add(PolicyOutputColumns.Action, StringType, nullable = false)
      .add(PolicyOutputColumns.ActionIndex, IntegerType, nullable = false)
      .add(PolicyOutputColumns.Scores, ArrayType(DoubleType, containsNull = false), nullable = false)
      .add(PolicyOutputColumns.Leaf, IntegerType, nullable = false)
  }
}

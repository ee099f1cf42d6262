package org.sparkpolicy.exec

import org.apache.spark.broadcast.Broadcast
import org.apache.spark.rdd.RDD
import org.apache.spark.sql.{DataFrame, SparkSession}
import org.apache.spark.sql.catalyst.InternalRow
import org.apache.spark.sql.catalyst.analysis.MultiInstanceRelation
import org.apache.spark.sql.catalyst.expressions.{And, Attribute, AttributeReference, AttributeSet, BoundReference, Cast, Expression, PredicateHelper, SortOrder, UnsafeProjection}
import org.apache.spark.sql.catalyst.plans.logical.{Filter, LogicalPlan, UnaryNode}
import org.apache.spark.sql.catalyst.rules.Rule
import org.apache.spark.sql.catalyst.plans.physical.Partitioning
import org.apache.spark.sql.execution.{SparkPlan, SparkStrategy, UnaryExecNode}
import org.apache.spark.sql.execution.metric.{SQLMetric, SQLMetrics}
import org.apache.spark.sql.sparkpolicy.InternalFrames
import org.apache.spark.sql.types.{DoubleType, StringType, StructType}
import org.apache.spark.sql.vectorized.{ColumnVector, ColumnarBatch}
import org.apache.spark.util.LongAccumulator

/**
 * What a transform's scoring tasks need, fixed at `transform`: the broadcast tree, the arm labels,
 * the Arrow batch size and, per feature, its category labels (None: numeric).
 */
private[sparkpolicy] final case class ScoringSpec(modelUid: String, treeHash: String, payload: Broadcast[ScoringPayload],
    vocabulary: Array[String], batchRows: Int, categories: Array[Option[Array[String]]], unseen: LongAccumulator) {
  def hasCategorical: Boolean = categories.exists(_.isDefined)
  override def toString: String = s"$modelUid, tree ${treeHash.take(12)}"
}

/**
 * Scoring as a node of the query plan: `child` plus the four output columns. Being a plan node, not
 * an RDD, lets Spark keep the scan columnar up to this node and turn the scored batches into rows in
 * its own generated code (see `PolicyScoringExec`). A `MultiInstanceRelation` so that in a self-join
 * of a scored frame Spark's deduplication, having renewed the input's attributes below, also renews
 * the four outputs on one side (`newInstance`); without it both sides would share their ids.
 */
private[sparkpolicy] final case class PolicyScoring(features: Seq[Attribute], scored: Seq[Attribute], spec: ScoringSpec, child: LogicalPlan)
    extends UnaryNode with MultiInstanceRelation {
  override def output: Seq[Attribute] = child.output ++ scored
  override def producedAttributes: AttributeSet = AttributeSet(scored)
  override def maxRows: Option[Long] = child.maxRows
  override def newInstance(): LogicalPlan = copy(scored = scored.map(_.newInstance()))
  override protected def withNewChildInternal(newChild: LogicalPlan): PolicyScoring = copy(child = newChild)
}

/**
 * Moves the deterministic conjuncts of a filter above scoring that read only input columns below it:
 * scoring is row by row, so those rows' outputs do not change, fewer rows are scored, and the scan
 * can prune partitions and skip row groups. Spark pushes filters only through nodes it knows.
 */
private[sparkpolicy] object PushFiltersBelowScoring extends Rule[LogicalPlan] with PredicateHelper {
  override def apply(plan: LogicalPlan): LogicalPlan = plan.transformUp {
    case f @ Filter(condition, s: PolicyScoring) =>
      val (below, above) = splitConjunctivePredicates(condition).partition(c => c.deterministic && c.references.subsetOf(s.child.outputSet))
      if (below.isEmpty) f
      else {
        val scored = s.copy(child = Filter(below.reduce(And), s.child))
        above.reduceOption(And).map(Filter(_, scored)).getOrElse(scored)
      }
  }
}

/** Plans `PolicyScoring`; registered with a session by its first scoring transform, or by `SparkPolicyExtensions`. */
private[sparkpolicy] object PolicyScoringStrategy extends SparkStrategy {
  override def apply(plan: LogicalPlan): Seq[SparkPlan] = plan match {
    case p: PolicyScoring => PolicyScoringExec(p.features, p.scored, p.spec, planLater(p.child)) :: Nil
    case _ => Nil
  }
}

/**
 * Scores its child's partitions, columnar when it can: when the child produces columnar batches (a
 * Parquet or ORC scan, a cached table) and every feature is a double, the outputs are appended to
 * each batch as column vectors, and Spark's generated ColumnarToRow code makes the rows, as for a
 * plain scan. Otherwise it scores Catalyst rows (`PartitionScorer.scoreInternal`). Both paths give
 * the same values.
 */
private[sparkpolicy] final case class PolicyScoringExec(features: Seq[Attribute], scored: Seq[Attribute], spec: ScoringSpec, child: SparkPlan)
    extends UnaryExecNode {
  override def output: Seq[Attribute] = child.output ++ scored
  override def producedAttributes: AttributeSet = AttributeSet(scored)
  override def outputPartitioning: Partitioning = child.outputPartitioning
  override def outputOrdering: Seq[SortOrder] = child.outputOrdering
  override lazy val metrics: Map[String, SQLMetric] = Map("numOutputRows" -> SQLMetrics.createMetric(sparkContext, "number of output rows"))

  override def supportsColumnar: Boolean = child.supportsColumnar && !spec.hasCategorical && features.forall(_.dataType == DoubleType)
  override def vectorTypes: Option[Seq[String]] = child.vectorTypes.map(_ ++ scored.map(_ => classOf[ColumnVector].getName))
  override protected def withNewChildInternal(newChild: SparkPlan): PolicyScoringExec = copy(child = newChild)

  /** Where each feature is in the child's rows. */
  private def ordinals: Array[Int] = features.map { f =>
    val i = child.output.indexWhere(_.exprId == f.exprId)
    if (i < 0) throw new IllegalStateException(s"feature column '${f.name}' is not among the scored plan's columns ${child.output.mkString(", ")}")
    i
  }.toArray

  override protected def doExecuteColumnar(): RDD[ColumnarBatch] = {
    val (s, at, rows) = (spec, ordinals, longMetric("numOutputRows"))
    child.executeColumnar().mapPartitions { batches =>
      ColumnarScorer.score(batches, s.payload.value, s.vocabulary, at, s.batchRows).map { b => rows += b.numRows(); b }
    }
  }

  /** Catalyst rows: double features read in place, other numbers through the Cast training used, categories as labels. */
  override protected def doExecute(): RDD[InternalRow] = {
    val at = ordinals
    val types = at.map(child.output(_)).map(a => (a.dataType, a.nullable))
    val numeric = at.indices.map(k => spec.categories(k).isEmpty)
    val directOrdinal = at.indices.map(k => if (numeric(k) && types(k)._1 == DoubleType) at(k) else -1).toArray
    val casts: Seq[Expression] = at.indices.filter(k => numeric(k) && types(k)._1 != DoubleType).map { k =>
      Cast(BoundReference(at(k), types(k)._1, types(k)._2), DoubleType)
    }
    // Categorical labels: the string in place, or Spark's cast to string (as training coded them).
    val labels: Seq[Expression] = at.indices.filterNot(numeric).map { k =>
      val ref = BoundReference(at(k), types(k)._1, types(k)._2)
      if (types(k)._1 == StringType) ref else Cast(ref, StringType)
    }
    val cat = CategoricalInputs.of(spec, labels)
    val (s, out, rows) = (spec, output, longMetric("numOutputRows"))
    child.execute().mapPartitions { input =>
      val toUnsafe = UnsafeProjection.create(out, out)
      PartitionScorer.scoreInternal(input, s.payload.value, s.vocabulary, directOrdinal, casts, s.batchRows, cat).map { r =>
        rows += 1
        toUnsafe(r)
      }
    }
  }
}

private[sparkpolicy] object ScoringPlan {
  /** `df` with the scoring outputs (`outputs`, the last fields of the output schema) appended by a `PolicyScoring` node. */
  def scored(df: DataFrame, featureCols: Seq[String], outputs: StructType, spec: ScoringSpec): DataFrame =
    InternalFrames.withPlanNode(df, PolicyScoringStrategy, PushFiltersBelowScoring) { child =>
      val features = featureCols.map(c => child.output(df.schema.fieldIndex(c)))
      PolicyScoring(features, outputs.map(f => AttributeReference(f.name, f.dataType, f.nullable)()), spec, child)
    }

  /** Whether `session` plans scoring nodes yet (tests). */
  def registered(session: SparkSession): Boolean = InternalFrames.hasStrategy(session, PolicyScoringStrategy)
}

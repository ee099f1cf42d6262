package org.sparkpolicy.score

import org.apache.spark.rdd.RDD
import org.apache.spark.sql.catalyst.InternalRow
import org.apache.spark.sql.catalyst.expressions.{Attribute, AttributeSet, BoundReference, Cast, Expression, SortOrder, UnsafeProjection}
import org.apache.spark.sql.catalyst.plans.physical.Partitioning
import org.apache.spark.sql.execution.{SparkPlan, UnaryExecNode}
import org.apache.spark.sql.execution.metric.{SQLMetric, SQLMetrics}
import org.apache.spark.sql.types.{DoubleType, StringType}
import org.apache.spark.sql.vectorized.{ColumnVector, ColumnarBatch}
import org.sparkpolicy.ml.model.PolicyOutputColumns

/**
 * Scores its child's partitions, columnar when it can: when the child produces columnar batches (a
 * Parquet or ORC scan, a cached table) and every feature is a double, the outputs are appended to
 * each batch as column vectors, and Spark's generated ColumnarToRow code makes the rows, as for a
 * plain scan. Otherwise it scores Catalyst rows (`PartitionScorer.scoreInternal`). Both paths give
 * the same values. Once `PruneForestLeaves` dropped it, a forest's output has no `policy_leaves`, and neither path computes it.
 */
private[sparkpolicy] final case class PolicyScoringExec(features: Seq[Attribute], scored: Seq[Attribute], spec: ScoringSpec, child: SparkPlan)
    extends UnaryExecNode {
  /** Whether a forest's `policy_leaves` is among the outputs (see `PolicyScoring.withLeaves`). */
  def withLeaves: Boolean = scored.length == PolicyOutputColumns.ForestAll.length
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
    val (s, at, rows, leaves) = (spec, ordinals, longMetric("numOutputRows"), withLeaves)
    child.executeColumnar().mapPartitions { batches =>
      ColumnarScorer.score(batches, s.payload.value, s.vocabulary, at, s.batchRows, leaves).map { b => rows += b.numRows(); b }
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
    val (s, out, rows, leaves) = (spec, output, longMetric("numOutputRows"), withLeaves)
    child.execute().mapPartitions { input =>
      val toUnsafe = UnsafeProjection.create(out, out)
      PartitionScorer.scoreInternal(input, s.payload.value, s.vocabulary, directOrdinal, casts, s.batchRows, cat, leaves).map { r =>
        rows += 1
        toUnsafe(r)
      }
    }
  }
}

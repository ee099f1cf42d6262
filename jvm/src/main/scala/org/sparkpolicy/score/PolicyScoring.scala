package org.sparkpolicy.score

import org.apache.spark.sql.catalyst.analysis.MultiInstanceRelation
import org.apache.spark.sql.catalyst.expressions.{Attribute, AttributeSet}
import org.apache.spark.sql.catalyst.plans.logical.{LogicalPlan, UnaryNode}
import org.sparkpolicy.ml.model.PolicyOutputColumns

/**
 * Scoring as a node of the query plan: `child` plus the four output columns. Being a plan node, not
 * an RDD, lets Spark keep the scan columnar up to this node and turn the scored batches into rows in
 * its own generated code (see `PolicyScoringExec`). A `MultiInstanceRelation` so that in a self-join
 * of a scored frame Spark's deduplication, having renewed the input's attributes below, also renews
 * the four outputs on one side (`newInstance`); without it both sides would share their ids.
 * `scored` are the output columns in `PolicyOutputColumns` order: all four, or a forest's first three once
 * `PruneForestLeaves` found that nothing reads `policy_leaves`.
 */
private[sparkpolicy] final case class PolicyScoring(features: Seq[Attribute], scored: Seq[Attribute], spec: ScoringSpec, child: LogicalPlan)
    extends UnaryNode with MultiInstanceRelation {
  /** Whether the last output is `policy_leaves` (a tree's fourth output, its leaf, is always there). */
  def withLeaves: Boolean = scored.length == PolicyOutputColumns.ForestAll.length
  override def output: Seq[Attribute] = child.output ++ scored
  override def producedAttributes: AttributeSet = AttributeSet(scored)
  override def maxRows: Option[Long] = child.maxRows
  override def newInstance(): LogicalPlan = copy(scored = scored.map(_.newInstance()))
  override protected def withNewChildInternal(newChild: LogicalPlan): PolicyScoring = copy(child = newChild)
}

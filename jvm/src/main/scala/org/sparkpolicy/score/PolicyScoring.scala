package org.sparkpolicy.score

import org.apache.spark.sql.catalyst.analysis.MultiInstanceRelation
import org.apache.spark.sql.catalyst.expressions.{Attribute, AttributeSet}
import org.apache.spark.sql.catalyst.plans.logical.{LogicalPlan, UnaryNode}

/**
 * Scoring as a node of the query plan: `child` plus the four output columns. Being a plan node, not
 * an RDD, lets Spark keep the scan columnar up to this node and turn the scored batches into rows in
 * its own generated code (see `PolicyScoringExec`). A `MultiInstanceRelation` so that in a self-join
 * of a scored frame Spark's deduplication, having renewed the input's attributes below, also renews
 * the four outputs on one side (`newInstance`); without it both sides would share their ids.
 * `scored` are the output columns in `PolicyOutputColumns` order: all four, or a forest's first three once
 * `PruneForestLeaves` found that nothing reads `policy_leaves` (`withLeaves` false).
 */
private[sparkpolicy] final case class PolicyScoring(features: Seq[Attribute], scored: Seq[Attribute], spec: ScoringSpec, child: LogicalPlan,
    withLeaves: Boolean = true) extends UnaryNode with MultiInstanceRelation {
  override def output: Seq[Attribute] = child.output ++ scored
  override def producedAttributes: AttributeSet = AttributeSet(scored)
  override def maxRows: Option[Long] = child.maxRows
  override def newInstance(): LogicalPlan = copy(scored = scored.map(_.newInstance()))
  override protected def withNewChildInternal(newChild: LogicalPlan): PolicyScoring = copy(child = newChild)
}

package org.sparkpolicy.score

import org.apache.spark.sql.catalyst.plans.logical.{Filter, LogicalPlan, Project}
import org.apache.spark.sql.catalyst.rules.Rule

/**
 * Drops a forest's `policy_leaves` (one int per tree a row) from scoring when the projection above reads only the
 * other columns, directly or through a filter that does not read them either: the native scorer then neither
 * writes the leaves nor copies them to the JVM. Spark's column pruning has by then put that projection above the
 * node (below an aggregate or a write of fewer columns too).
 */
private[sparkpolicy] object PruneForestLeaves extends Rule[LogicalPlan] {
  override def apply(plan: LogicalPlan): LogicalPlan = plan.transformUp {
    case p @ Project(_, s: PolicyScoring) if prunable(s, p) => p.copy(child = pruned(s))
    case p @ Project(_, f @ Filter(_, s: PolicyScoring)) if prunable(s, p, f) => p.copy(child = f.copy(child = pruned(s)))
  }

  private def prunable(s: PolicyScoring, above: LogicalPlan*): Boolean =
    s.withLeaves && s.spec.payload.value.forest && !above.exists(_.references.contains(s.scored.last))

  private def pruned(s: PolicyScoring): PolicyScoring = s.copy(scored = s.scored.init)
}

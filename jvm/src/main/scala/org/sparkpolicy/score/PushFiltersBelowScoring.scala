package org.sparkpolicy.score

import org.apache.spark.sql.catalyst.expressions.{And, PredicateHelper}
import org.apache.spark.sql.catalyst.plans.logical.{Filter, LogicalPlan}
import org.apache.spark.sql.catalyst.rules.Rule

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

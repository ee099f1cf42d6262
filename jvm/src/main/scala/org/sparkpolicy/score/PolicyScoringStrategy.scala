package org.sparkpolicy.score

import org.apache.spark.sql.catalyst.plans.logical.LogicalPlan
import org.apache.spark.sql.execution.{SparkPlan, SparkStrategy}

/** Plans `PolicyScoring`; registered with a session by its first scoring transform, or by `SparkPolicyExtensions`. */
private[sparkpolicy] object PolicyScoringStrategy extends SparkStrategy {
  override def apply(plan: LogicalPlan): Seq[SparkPlan] = plan match {
    case p: PolicyScoring => PolicyScoringExec(p.features, p.scored, p.spec, planLater(p.child)) :: Nil
    case _ => Nil
  }
}

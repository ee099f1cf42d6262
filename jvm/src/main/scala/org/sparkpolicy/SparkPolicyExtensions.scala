package org.sparkpolicy

import org.apache.spark.sql.{SparkSessionExtensions, SparkSessionExtensionsProvider}
import org.sparkpolicy.score.{PolicyScoringStrategy, PruneForestLeaves, PushFiltersBelowScoring}

/**
 * The planner strategy and optimizer rules of native scoring, for every session of an application:
 * `--conf spark.sql.extensions=org.sparkpolicy.SparkPolicyExtensions`. Optional: `transform` adds
 * them to its own session. Needed only where a session plans a scored frame it did not create, such
 * as a global temporary view read from another session.
 */
class SparkPolicyExtensions extends SparkSessionExtensionsProvider {
  override def apply(extensions: SparkSessionExtensions): Unit = {
    extensions.injectPlannerStrategy(_ => PolicyScoringStrategy)
    extensions.injectOptimizerRule(_ => PushFiltersBelowScoring)
    extensions.injectOptimizerRule(_ => PruneForestLeaves)
  }
}

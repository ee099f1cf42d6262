package org.sparkpolicy

/**
 * Scoring a tree or a forest inside Spark's plan (`ScoringPlan.transform`): the `PolicyScoring` logical node, its strategy and `PolicyScoringExec`,
 * the filter push-down and forest-leaves pruning rules, the columnar and row scorers of one partition, the output column vectors,
 * and the pure-SQL backend (`SqlExpression`). Native calls go through `bridge.TaskScorer`; imports
 * `ml.model` and `bridge`, never `train`, `rewards` or `contract`.
 */
package object score

package org.sparkpolicy

/**
 * The public Spark ML stages: `PolicyTreeLearner` and `PolicyTreeModel` (with their persistence and
 * `PolicyTreeTrainingSummary`), `PolicyForestLearner` and `PolicyForestModel` (with their persistence; both
 * learners share `FitProjection`), `DoublyRobustScores`, `PolicyValueEvaluator`, `QiniEvaluator` (with its
 * `QiniCurve` and `QiniResult`) and `HashSplit`. A stage
 * resolves its Params once (`ml.params`) and hands typed settings to `train`, `rewards` or `score`; the
 * types a user may hold (node table, split decisions, level stats) live in `ml.model`. May import every
 * other package; nothing imports it but the examples.
 */
package object ml

package org.sparkpolicy

/**
 * The semantic contract: `Contract` (feature order and kinds, vocabulary, reward recipe, boundaries),
 * the six `Signatures`, and `RowHash`, the one seeded row hash behind the boundary sample, the AIPW
 * folds and `HashSplit`. Depends on Spark SQL only: nothing from training, rewards, scoring, the bridge
 * or the stages (`PackageBoundarySuite` fails otherwise), so every other package may depend on it.
 */
package object contract

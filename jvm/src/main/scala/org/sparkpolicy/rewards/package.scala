package org.sparkpolicy

/**
 * AIPW rewards: cross-fitted outcome trees (`CrossFitting`, grown by `train`'s level search with the
 * outcome criterion), or any Spark ML regressor (`ExternalOutcomeModel`), propensities, and Γ per row
 * (`AipwRewards`, `AipwScorer`); `InProcessAipw` runs the same pieces without Spark. Imports `train`, `ml.model`
 * and `bridge`.
 */
package object rewards

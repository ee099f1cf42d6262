package org.sparkpolicy.contract

/**
 * The AIPW recipe: K folds by a seeded hash of the row (or of `rowIdCol`), the propensity source
 * (`column`, design `shares` or leaf shares of the fold `tree`), its floor, and the outcome model
 * (`tree(depth=…,minNodeSize=…)` for the native trees, else the regressor's class, outside the contract).
 */
final case class AipwSpec(folds: Int, foldSeed: Long, propensity: String, propensityFloor: Double, outcomeModel: String)

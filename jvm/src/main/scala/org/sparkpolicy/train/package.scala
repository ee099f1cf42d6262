package org.sparkpolicy

/**
 * Growing a tree from Γ, in data-flow order: `TreeTrainer` runs the validation pass and the Γ columns
 * (`TrainingData`, `InputPass`, `InputSummary`, `InputChecks`), boundaries from the pass's sample
 * (`BoundarySample`, `Boundaries`, `Categories`), binning into native blocks (`BinnedBlocks`), one
 * collect-less `LevelSearch` per level (below a greedy level with sibling subtraction: `SiblingPlan`, the
 * parent's histograms kept as `LevelHistograms`; or `PairLevelSearch`, the two-level search, with `PairPlan`
 * and `PairLevelJob`), the driver's reducer (`TreeGrower`, with a `SplitCriterion`: the policy reward, or an
 * AIPW outcome tree's fit), and the training output signature (`OutputSignature`). `FitSetup` holds the
 * steps up to binning that a forest's fit shares; `ForestTrainer` grows all of a forest's trees together
 * (`FeatureSubset` per node, native row samples per tree) into a `TrainedForest`, signed by
 * `ForestOutputSignature`.
 * AIPW Γ is supplied by the caller (`rewards.AipwRewards.training`), so this package never imports
 * `rewards`; it reaches native code only through `bridge`.
 */
package object train

package org.sparkpolicy

/**
 * Growing a tree from Γ, in data-flow order: `TreeTrainer` runs validation and the Γ columns
 * (`TrainingData`), boundaries (`Boundaries`, `Categories`), binning into native blocks (`BinnedBlocks`),
 * one collect-less `LevelSearch` per level (or `PairLevelSearch`, the two-level search, with `PairPlan`
 * and `PairLevelJob`), and the driver's reducer (`TreeGrower`, with
 * a `SplitCriterion`: the policy reward, or an AIPW outcome tree's fit).
 * AIPW Γ is supplied by the caller (`rewards.AipwRewards.training`), so this package never imports
 * `rewards`; it reaches native code only through `bridge`.
 */
package object train

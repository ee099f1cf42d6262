package org.sparkpolicy.bridge

/**
 * A coarse value bin of a feature whose fine thresholds could reach the block's best split: `bound` is
 * an upper bound on the reward of every threshold inside it (`split::bin_bound`, exact integers).
 * Refinement searches the bins whose bound reaches the node's best (`ThresholdRefinement`).
 */
private[sparkpolicy] final case class RefineBin(feature: Int, bin: Int, bound: BigInt)

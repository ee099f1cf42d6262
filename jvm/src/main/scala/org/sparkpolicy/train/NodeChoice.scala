package org.sparkpolicy.train

import org.sparkpolicy.bridge.{Candidate, RefineBin, SplitRecord}

/**
 * One frontier node's best candidate of a level (with the record it came from: its left and right sums
 * become the children's totals) and the runner-up; `refine` lists the coarse bins, over all the node's
 * feature blocks, whose bound reaches the winner's reward (every listed bin when there is no winner):
 * the bins `ThresholdRefinement` searches on their fine codes. `leftOut` is the largest bound of the bins
 * the records did not list (past `refineBins`), for certifying the refined split.
 */
private[sparkpolicy] final case class NodeChoice(node: Int, totals: Array[Long], winner: Option[(Candidate, SplitRecord)],
    runnerUp: Option[Candidate], refine: Vector[RefineBin] = Vector.empty, leftOut: Option[BigInt] = None)

package org.sparkpolicy.train

import org.sparkpolicy.bridge.{Candidate, SplitRecord}

/**
 * One frontier node's best candidate of a level (with the record it came from: its left and right sums
 * become the children's totals, its window is what refinement searches) and the runner-up.
 */
private[sparkpolicy] final case class NodeChoice(node: Int, totals: Array[Long], winner: Option[(Candidate, SplitRecord)],
    runnerUp: Option[Candidate])

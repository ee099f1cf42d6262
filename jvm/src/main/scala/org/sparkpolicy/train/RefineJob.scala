package org.sparkpolicy.train

import org.sparkpolicy.bridge.NativeConfig
import org.sparkpolicy.ml.model.NodeTable

/**
 * One tree's share of a level's refinement pass (`ThresholdRefinement`): the tree the level routed rows
 * with, its frontier and the nodes' coarse choices. `treeId` keys its partials in a pass over several
 * trees (a forest's); a forest tree's `rowSample` makes its group histograms count only its rows (an
 * honest tree's structure half).
 */
private[sparkpolicy] final case class RefineJob(treeId: Int, tree: NodeTable, frontier: Array[Int], choices: Vector[NodeChoice],
    rowSample: Option[NativeConfig.RowSample] = None)

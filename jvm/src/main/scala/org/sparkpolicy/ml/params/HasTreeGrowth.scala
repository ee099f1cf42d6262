package org.sparkpolicy.ml.params

import org.apache.spark.ml.param._

/** How the policy tree is grown: depth, child size, and where its split boundaries come from. */
trait HasTreeGrowth[S] extends Params { self: S =>
  final val maxDepth: IntParam = new IntParam(this, "maxDepth", "maximum depth of the tree (1 to 12)", ParamValidators.inRange(1, 12))
  final val minNodeSize: IntParam = new IntParam(this, "minNodeSize",
    "minimum number of rows in each child of a split (policytree's min.node.size)", ParamValidators.gtEq(1))
  final val boundaryStrategy: Param[String] = new Param[String](this, "boundaryStrategy",
    "'exact' (default): exact quantiles of a content-hash sample, identical in any layout; " +
      "'approx': Spark's approxQuantile, fast but not layout-invariant", ParamValidators.inArray(Array("exact", "approx")))
  final val boundaries: DoubleArrayArrayParam = new DoubleArrayArrayParam(this, "boundaries",
    "locked split boundaries per feature (featureCols order); when set, no boundaries are computed")
  final val thresholdSearch: Param[String] = new Param[String](this, "thresholdSearch",
    "'exact' (default, for trees and forests): every distinct value of the boundary sample is a candidate threshold, " +
      "searched on a coarse grid of maxBins bins, then the coarse bins whose bound can reach the best are refined (up to " +
      "refineBins per node; docs/contract.md); 'binned': only the maxBins quantile boundaries",
    ParamValidators.inArray(Array("exact", "binned")))
  final val searchDepth: IntParam = new IntParam(this, "searchDepth",
    "levels searched together: 1 greedy (each split alone); 2 each split is the root of the best depth-2 subtree " +
      "(policytree's hybrid search; with maxDepth 2 the optimal depth-2 tree over the coarse grid)", ParamValidators.inArray(Array(1, 2)))
  final val refineBins: IntParam = new IntParam(this, "refineBins",
    "with thresholdSearch 'exact', the coarse bins per node refined on the fine grid at most: the coarse winner's two, then " +
      "those whose bound can reach the node's best, largest first (trees 8, forests 2: the winner's bins alone, no bounds); " +
      "0: every bin that can, which makes each split the exhaustive search's",
    (v: Int) => v == 0 || v >= 2)
  setDefault(maxDepth -> 3, minNodeSize -> 1, boundaryStrategy -> "exact", thresholdSearch -> "exact", searchDepth -> 1, refineBins -> 8)

  final def getMaxDepth: Int = $(maxDepth)
  final def getMinNodeSize: Int = $(minNodeSize)
  final def getBoundaryStrategy: String = $(boundaryStrategy)
  final def getThresholdSearch: String = $(thresholdSearch)
  final def getSearchDepth: Int = $(searchDepth)
  final def getRefineBins: Int = $(refineBins)

  final def setMaxDepth(value: Int): S = set(maxDepth, value)
  final def setMinNodeSize(value: Int): S = set(minNodeSize, value)
  final def setBoundaryStrategy(value: String): S = set(boundaryStrategy, value)
  final def setThresholdSearch(value: String): S = set(thresholdSearch, value)
  final def setSearchDepth(value: Int): S = set(searchDepth, value)
  final def setRefineBins(value: Int): S = set(refineBins, value)
  /** Locks the split boundaries (one strictly increasing array per feature, featureCols order). */
  final def setBoundaries(value: Array[Array[Double]]): S = set(boundaries, value)
}

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
  setDefault(maxDepth -> 3, minNodeSize -> 1, boundaryStrategy -> "exact")

  final def getMaxDepth: Int = $(maxDepth)
  final def getMinNodeSize: Int = $(minNodeSize)
  final def getBoundaryStrategy: String = $(boundaryStrategy)

  final def setMaxDepth(value: Int): S = set(maxDepth, value)
  final def setMinNodeSize(value: Int): S = set(minNodeSize, value)
  final def setBoundaryStrategy(value: String): S = set(boundaryStrategy, value)
  /** Locks the split boundaries (one strictly increasing array per feature, featureCols order). */
  final def setBoundaries(value: Array[Array[Double]]): S = set(boundaries, value)
}

package org.sparkpolicy.ml.params

import org.apache.spark.ml.param._

/** How features are binned: every stage that builds native blocks (the learner, `DoublyRobustScores`) has these. */
trait HasBinning[S] extends Params { self: S =>
  final val maxBins: IntParam = new IntParam(this, "maxBins",
    "value bins per feature (2 to 65,535) of the split search's grid, plus one code for missing values: with " +
      "thresholdSearch 'exact' the coarse grid searched before refinement, with 'binned' (and in DoublyRobustScores) the only thresholds", ParamValidators.inRange(2, 65535))
  final val boundarySampleSize: IntParam = new IntParam(this, "boundarySampleSize",
    "rows sampled (by content hash) to place split boundaries; every row when the data is smaller", ParamValidators.gtEq(1))
  final val rowIdCol: Param[String] = new Param[String](this, "rowIdCol",
    "optional row id column; when set, the boundary sample and the AIPW folds are chosen by a hash of the id instead of the " +
      "row's content")
  setDefault(maxBins -> 64, boundarySampleSize -> 50000)

  final def getMaxBins: Int = $(maxBins)
  final def getBoundarySampleSize: Int = $(boundarySampleSize)
  final def getRowIdCol: String = $(rowIdCol)

  final def setMaxBins(value: Int): S = set(maxBins, value)
  final def setBoundarySampleSize(value: Int): S = set(boundarySampleSize, value)
  final def setRowIdCol(value: String): S = set(rowIdCol, value)
}

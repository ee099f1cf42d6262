package org.sparkpolicy.ml.params

import org.apache.spark.ml.param._

/** How transform feeds the native scorer. */
trait HasScoringBatch[S] extends Params { self: S =>
  final val scoringBatchSize: IntParam = new IntParam(this, "scoringBatchSize",
    "rows per Arrow batch sent to the native scorer", ParamValidators.inRange(1, 1 << 20))
  setDefault(scoringBatchSize -> 4096)
  final def getScoringBatchSize: Int = $(scoringBatchSize)
  final def setScoringBatchSize(value: Int): S = set(scoringBatchSize, value)
}

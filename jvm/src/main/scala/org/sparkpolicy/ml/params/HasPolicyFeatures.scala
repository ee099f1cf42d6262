package org.sparkpolicy.ml.params

import org.apache.spark.ml.param._

/** Which columns hold the features; shared by the learner and the model (transform reads them). */
trait HasPolicyFeatures[S] extends Params { self: S =>
  final val featureCols: StringArrayParam = new StringArrayParam(this, "featureCols",
    "numeric, boolean or string (categorical) feature columns, in contract order (the order is part of the semantic contract)")
  final def getFeatureCols: Array[String] = $(featureCols)
  final def setFeatureCols(value: Array[String]): S = set(featureCols, value)
}

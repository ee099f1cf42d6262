package org.sparkpolicy.ml

import org.apache.spark.ml.param._

/** Which columns hold the features; shared by the learner and the model (transform reads them). */
trait HasPolicyFeatures extends Params {
  final val featureCols: StringArrayParam = new StringArrayParam(this, "featureCols",
    "numeric, boolean or string (categorical) feature columns, in contract order (the order is part of the semantic contract)")
  final def getFeatureCols: Array[String] = $(featureCols)
}

/** Which features are categorical, and optionally their category order; read by the learner (a model keeps them in its contract). */
trait HasCategoricalFeatures extends Params {
  final val categoricalCols: StringArrayParam = new StringArrayParam(this, "categoricalCols",
    "feature columns to treat as categorical (a subset of featureCols); string features are categorical anyway, and a numeric " +
      "column listed here is coded by its value as a string")
  final val categoryOrders: Param[String] = new Param[String](this, "categoryOrders",
    "optional JSON object {column: [label, ...]} fixing a categorical feature's category codes (code i = label i); default: " +
      "the observed labels sorted by UTF-8 bytes", (v: String) => scala.util.Try(HasCategoricalFeatures.parseOrders(v)).isSuccess)
  setDefault(categoryOrders -> "{}")

  final def getCategoricalCols: Array[String] = get(categoricalCols).getOrElse(Array.empty)
  final def getCategoryOrders: String = $(categoryOrders)
  final def getCategoryOrdersMap: Map[String, Array[String]] = HasCategoricalFeatures.parseOrders($(categoryOrders))
}

object HasCategoricalFeatures {
  private[sparkpolicy] def parseOrders(json: String): Map[String, Array[String]] = {
    implicit val formats: org.json4s.Formats = org.json4s.DefaultFormats
    org.json4s.jackson.JsonMethods.parse(json).extract[Map[String, List[String]]].map { case (k, v) => k -> v.toArray }
  }

  private[sparkpolicy] def ordersJson(orders: Map[String, Array[String]]): String = {
    import org.json4s._
    org.json4s.jackson.JsonMethods.compact(org.json4s.jackson.JsonMethods.render(
      JObject(orders.toList.sortBy(_._1).map { case (k, v) => k -> JArray(v.toList.map(JString(_))) })))
  }
}

/** Where the rewards Γ come from: given per-arm columns, or IPW from an outcome and treatment. */
trait HasRewardInputs extends Params {
  final val treatmentCol: Param[String] = new Param[String](this, "treatmentCol",
    "column of arm labels (string or integer); optional when rewardCols is set")
  final val rewardCols: StringArrayParam = new StringArrayParam(this, "rewardCols",
    "one reward (Γ) column per arm, in vocabulary order; without treatmentCol the arms are named after these columns")
  final val outcomeCol: Param[String] = new Param[String](this, "outcomeCol", "observed outcome Y, for AIPW or IPW rewards")
  final val propensityCol: Param[String] = new Param[String](this, "propensityCol",
    "probability of the arm each row received; when unset, the arm's share in the data (or, for AIPW, see propensityModel)")
  final val rewardType: Param[String] = new Param[String](this, "rewardType",
    "how Γ is built: 'given' (rewardCols), 'ipw' (Γ(a) = 1{W=a}·Y/e) or 'aipw' (Γ(a) = μ̂_a(X) + 1{W=a}·(Y − μ̂_a(X))/e, " +
      "cross-fitted); default 'given' when rewardCols is set, else 'aipw'",
    ParamValidators.inArray(Array("given", "ipw", "aipw")))
  final val treatmentVocabulary: StringArrayParam = new StringArrayParam(this, "treatmentVocabulary",
    "fixed arm order; default: integer labels sorted numerically, string labels by UTF-8 bytes")

  final def getTreatmentCol: String = $(treatmentCol)
  final def getRewardCols: Array[String] = $(rewardCols)
  final def getOutcomeCol: String = $(outcomeCol)
  final def getPropensityCol: String = $(propensityCol)
  final def getRewardType: String = $(rewardType)
}

/** How AIPW rewards cross-fit their nuisances (outcome models μ̂ and propensities ê), and what happens to invalid rows. */
trait HasAipwSettings extends Params {
  final val crossFitFolds: IntParam = new IntParam(this, "crossFitFolds",
    "AIPW cross-fitting folds K, chosen by a hash of each row's content (or rowIdCol); fold k is predicted by models fitted on the other folds",
    ParamValidators.inRange(2, 100))
  final val propensityFloor: DoubleParam = new DoubleParam(this, "propensityFloor",
    "AIPW propensities are clipped to [propensityFloor, 1]; the number of clipped rows is in the training summary",
    ParamValidators.inRange(0.0, 1.0, lowerInclusive = false, upperInclusive = true))
  final val propensityModel: Param[String] = new Param[String](this, "propensityModel",
    "AIPW propensity when propensityCol is unset: 'shares' (the arm's share of all rows, for randomized designs) or " +
      "'tree' (the arm's share of the leaf of the row's cross-fitted outcome tree)",
    ParamValidators.inArray(Array("shares", "tree")))
  final val outcomeMaxDepth: IntParam = new IntParam(this, "outcomeMaxDepth",
    "depth of the native cross-fitted outcome trees μ̂ (1 to 12)", ParamValidators.inRange(1, 12))
  final val outcomeMinNodeSize: IntParam = new IntParam(this, "outcomeMinNodeSize",
    "minimum rows in each child of an outcome-tree split; a leaf's arm mean needs this many rows of the arm, else it comes " +
      "from the nearest ancestor that has them", ParamValidators.gtEq(1))
  final val handleInvalid: Param[String] = new Param[String](this, "handleInvalid",
    "rows with a null treatment or a null, NaN or infinite outcome: 'error' (default; the message names the column and " +
      "count) or 'skip' (dropped and counted in the training summary)", ParamValidators.inArray(Array("error", "skip")))
  setDefault(crossFitFolds -> 5, propensityFloor -> 0.01, propensityModel -> "shares", outcomeMaxDepth -> 4,
    outcomeMinNodeSize -> 20, handleInvalid -> "error")

  final def getCrossFitFolds: Int = $(crossFitFolds)
  final def getPropensityFloor: Double = $(propensityFloor)
  final def getPropensityModel: String = $(propensityModel)
  final def getOutcomeMaxDepth: Int = $(outcomeMaxDepth)
  final def getOutcomeMinNodeSize: Int = $(outcomeMinNodeSize)
  final def getHandleInvalid: String = $(handleInvalid)
}

/** How the tree is grown. */
trait HasTreeGrowth extends Params {
  final val maxDepth: IntParam = new IntParam(this, "maxDepth", "maximum depth of the tree (1 to 12)", ParamValidators.inRange(1, 12))
  final val minNodeSize: IntParam = new IntParam(this, "minNodeSize",
    "minimum number of rows in each child of a split (policytree's min.node.size)", ParamValidators.gtEq(1))
  final val maxBins: IntParam = new IntParam(this, "maxBins",
    "maximum value bins per feature (2 to 65,535), plus one code reserved for missing values", ParamValidators.inRange(2, 65535))
  final val maxMemoryMB: IntParam = new IntParam(this, "maxMemoryMB",
    "per-task native histogram budget in MiB; frontier nodes and feature blocks are grouped to fit", ParamValidators.gtEq(1))
  final val boundarySampleSize: IntParam = new IntParam(this, "boundarySampleSize",
    "rows sampled (by content hash) to place split boundaries; every row when the data is smaller", ParamValidators.gtEq(1))
  final val boundaryStrategy: Param[String] = new Param[String](this, "boundaryStrategy",
    "'exact' (default): exact quantiles of a content-hash sample, identical in any layout; " +
      "'approx': Spark's approxQuantile, fast but not layout-invariant", ParamValidators.inArray(Array("exact", "approx")))
  final val rowIdCol: Param[String] = new Param[String](this, "rowIdCol",
    "optional row id column; when set, the boundary sample is chosen by a hash of the id instead of the row's content")
  final val boundaries: DoubleArrayArrayParam = new DoubleArrayArrayParam(this, "boundaries",
    "locked split boundaries per feature (featureCols order); when set, no boundaries are computed")
  final val nativeThreads: IntParam = new IntParam(this, "nativeThreads",
    "native threads per task for histograms; 0 uses spark.task.cpus. Results do not depend on it", ParamValidators.gtEq(0))
  setDefault(maxDepth -> 3, minNodeSize -> 1, maxBins -> 64, maxMemoryMB -> 256, boundarySampleSize -> 200000,
    boundaryStrategy -> "exact", nativeThreads -> 0)

  final def getMaxDepth: Int = $(maxDepth)
  final def getMinNodeSize: Int = $(minNodeSize)
  final def getMaxBins: Int = $(maxBins)
  final def getMaxMemoryMB: Int = $(maxMemoryMB)
  final def getBoundarySampleSize: Int = $(boundarySampleSize)
  final def getBoundaryStrategy: String = $(boundaryStrategy)
  final def getRowIdCol: String = $(rowIdCol)
  final def getNativeThreads: Int = $(nativeThreads)
}

/** How transform feeds the native scorer. */
trait HasScoringBatch extends Params {
  final val scoringBatchSize: IntParam = new IntParam(this, "scoringBatchSize",
    "rows per Arrow batch sent to the native scorer", ParamValidators.inRange(1, 1 << 20))
  setDefault(scoringBatchSize -> 4096)
  final def getScoringBatchSize: Int = $(scoringBatchSize)
}

/** The columns transform appends. */
object PolicyOutputColumns {
  val Action = "policy_action"
  val ActionIndex = "policy_action_index"
  val Scores = "policy_scores"
  val Leaf = "policy_leaf"
  val All: Seq[String] = Seq(Action, ActionIndex, Scores, Leaf)
}

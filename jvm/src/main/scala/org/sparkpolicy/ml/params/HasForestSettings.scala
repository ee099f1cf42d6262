package org.sparkpolicy.ml.params

import org.apache.spark.ml.param._

/** How a policy forest draws its trees: how many, which rows and features each sees, honesty, seed. */
trait HasForestSettings[S] extends Params { self: S with HasTreeGrowth[S] =>
  final val numTrees: IntParam = new IntParam(this, "numTrees", "trees in the forest (1 to 10,000)", ParamValidators.inRange(1, 10000))
  final val subsamplingRate: DoubleParam = new DoubleParam(this, "subsamplingRate",
    "share of the rows each tree draws, without replacement, by a hash of the row's content (or rowIdCol), the seed and the " +
      "tree: in (0, 1]", ParamValidators.inRange(0.0, 1.0, lowerInclusive = false, upperInclusive = true))
  final val featureSubsetStrategy: Param[String] = new Param[String](this, "featureSubsetStrategy",
    "features each node may split on, drawn by a hash of (seed, tree, node, feature): 'all', 'sqrt', 'log2', 'onethird', a " +
      "fraction in (0, 1] or a whole number of features", (s: String) => scala.util.Try(FeatureSubsetCheck(s)).isSuccess)
  final val honest: BooleanParam = new BooleanParam(this, "honest",
    "each tree chooses its splits on one half of its rows and takes its leaf values from the other half (as EconML)")
  final val seed: LongParam = new LongParam(this, "seed", "seed of every random choice of the forest (rows, features)")
  setDefault(numTrees -> 100, subsamplingRate -> 0.5, featureSubsetStrategy -> "all", honest -> true, seed -> 42L)
  // A forest's trees refine only each winner's own coarse bins (no bound cells): with hundreds of trees × nodes the
  // bins past them cost a shuffle of fine histograms per level, and averaging does what exact search would.
  setDefault(refineBins -> 2)

  final def getNumTrees: Int = $(numTrees)
  final def getSubsamplingRate: Double = $(subsamplingRate)
  final def getFeatureSubsetStrategy: String = $(featureSubsetStrategy)
  final def getHonest: Boolean = $(honest)
  final def getSeed: Long = $(seed)

  final def setNumTrees(value: Int): S = set(numTrees, value)
  final def setSubsamplingRate(value: Double): S = set(subsamplingRate, value)
  final def setFeatureSubsetStrategy(value: String): S = set(featureSubsetStrategy, value)
  final def setHonest(value: Boolean): S = set(honest, value)
  final def setSeed(value: Long): S = set(seed, value)
}

/** The strategy's syntax, checked against one feature (the count itself is resolved at fit time). */
private object FeatureSubsetCheck {
  def apply(s: String): Int = org.sparkpolicy.train.FeatureSubset.count(s, 1)
}

package org.sparkpolicy.train

/**
 * The features a forest tree's node may split on (`featureSubsetStrategy`): the `count` features with the
 * smallest mixed hash of (seed, tree, node, feature), ties to the lower feature index. A pure function of
 * those four, so every layout, partition and retry gives a node the same subset. `count >= nFeatures` is
 * every feature.
 */
private[sparkpolicy] final case class FeatureSubset(seed: Long, tree: Int, nFeatures: Int, count: Int) {
  require(count >= 1, s"a node's feature subset needs at least one feature, got $count")

  /** One flag per feature (contract order) for heap node `node`. */
  def allowed(node: Int): Array[Boolean] =
    if (count >= nFeatures) Array.fill(nFeatures)(true)
    else {
      val salt = FeatureSubset.mix(FeatureSubset.mix(seed ^ (tree.toLong << 32)) ^ node.toLong)
      val order = (0 until nFeatures).sortBy(f => (FeatureSubset.mix(salt ^ f.toLong), f))(
        Ordering.Tuple2(Ordering.fromLessThan[Long](java.lang.Long.compareUnsigned(_, _) < 0), Ordering.Int))
      val flags = new Array[Boolean](nFeatures)
      order.take(count).foreach(flags(_) = true)
      flags
    }
}

private[sparkpolicy] object FeatureSubset {
  /** splitmix64's finalizer (as `native/core/src/row_sample.rs`'s `mix`). */
  def mix(x: Long): Long = {
    var z = x + 0x9E3779B97F4A7C15L
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL
    z ^ (z >>> 31)
  }

  /**
   * MLlib's `featureSubsetStrategy` values resolved to a count of F features: `all`, `sqrt`, `log2`,
   * `onethird`, a fraction in (0, 1], or a whole number n ≥ 1 (at most F). Anything else is an error naming the Param.
   */
  def count(strategy: String, nFeatures: Int): Int = {
    val f = nFeatures.toDouble
    val fraction = scala.util.Try(strategy.toDouble).toOption
    val n = strategy match {
      case "all" => nFeatures
      case "sqrt" => math.ceil(math.sqrt(f)).toInt
      case "log2" => math.max(1, math.ceil(math.log(f) / math.log(2)).toInt)
      case "onethird" => math.ceil(f / 3).toInt
      case s if s.forall(_.isDigit) && s.nonEmpty && fraction.exists(_ >= 1) => math.min(nFeatures.toLong, s.toLong).toInt
      case _ if fraction.exists(x => x > 0 && x <= 1) => math.ceil(fraction.get * f).toInt
      case _ => throw new IllegalArgumentException(s"featureSubsetStrategy '$strategy' is not one of all, sqrt, log2, onethird, " +
        "a fraction in (0, 1] or a whole number of features ≥ 1")
    }
    math.max(1, math.min(nFeatures, n))
  }
}

package org.sparkpolicy.train

import org.apache.spark.rdd.RDD
import org.sparkpolicy.contract.RowHash

/**
 * Split boundaries per feature, computed on executors and independent of how the data is laid out:
 * the sample is chosen by a hash of each row's content (never its position or partition), and the
 * boundaries are exact quantiles of that sample placed at observed values. Only the boundary arrays
 * reach the driver.
 */
private[sparkpolicy] object Boundaries {

  /**
   * The boundaries of the validation pass's sample (`InputPass`, `BoundarySample`): each partition's sorted
   * runs of the sampled rows, merged and placed by [[placed]] exactly as [[compute]] does; the candidates are
   * released afterwards.
   */
  def fromSample(sample: BoundarySample, maxBins: Int): Array[Array[Double]] =
    try placed(sample.runs, sample.nFeatures, maxBins) finally sample.release()

  /**
   * The boundaries from a pass of their own over `data.frame` (the fit draws them in its validation pass
   * instead, `fromSample`): the same rows, runs and edges.
   */
  def compute(data: TrainingData, maxBins: Int, sampleSize: Int): Array[Array[Double]] = {
    val nFeatures = data.nFeatures
    val rate = math.min(1.0, sampleSize.toDouble / data.nRows)
    val hashIdx = data.frame.schema.fieldIndex(TrainingData.SampleHashName)
    // Sampled and counted on InternalRows, outside Catalyst: a SQL filter over the wide projection made
    // the optimizer's constraint propagation blow up (minutes, then out of memory, past ~16 features).
    // Each partition sends one sorted (value, count) run per feature, not one record per distinct value.
    val runs = data.frame.queryExecution.toRdd
      .mapPartitions { rows =>
        val sampled = Array.fill(nFeatures)(new scala.collection.mutable.ArrayBuilder.ofDouble)
        rows.foreach { row =>
          // The row's sample hash (of its id, or of its source columns) mapped to [0, 1): the same rows in any layout.
          val u = RowHash.unitOf(row.getLong(hashIdx))
          if (rate >= 1.0 || u < rate) {
            var f = 0
            while (f < nFeatures) {
              if (!row.isNullAt(f)) {
                val v = row.getDouble(f)
                if (!v.isNaN) sampled(f) += (if (v == 0.0) 0.0 else v) // -0.0 and 0.0 are one value
              }
              f += 1
            }
          }
        }
        Iterator.tabulate(nFeatures)(f => f -> ValueCounts.of(sampled(f).result())).filter(_._2.size > 0)
      }
    placed(runs, nFeatures, maxBins)
  }

  /** Merges the partitions' runs per feature exactly with `reduceByKey` and places each feature's edges on executors. */
  private def placed(runs: RDD[(Int, ValueCounts)], nFeatures: Int, maxBins: Int): Array[Array[Double]] = {
    val nParts = math.max(1, math.min(nFeatures, runs.sparkContext.defaultParallelism))
    val edges = runs.reduceByKey(ValueCounts.merge _, nParts).mapValues(vc => fromCounts(vc, maxBins)).collectAsMap()
    Array.tabulate(nFeatures)(f => edges.getOrElse(f, Array.empty[Double]))
  }

  /** A feature's boundaries from its merged sample counts: the one place the edges are placed (`edgesFromCounts`). */
  def fromCounts(counts: ValueCounts, maxBins: Int): Array[Double] = edgesFromCounts(counts.pairs, maxBins)

  /**
   * Spark's `approxQuantile` (Greenwald–Khanna sketches merged across partitions): fast, but the
   * sketches merge in partition order, so the boundaries may change with the layout. Not part of
   * the invariance promise; offered for very wide data where the exact pass is too slow.
   */
  def approximate(data: TrainingData, maxBins: Int): Array[Array[Double]] = {
    val features = (0 until data.nFeatures).map(TrainingData.featureName).toArray
    val probabilities = (1 until maxBins).map(_.toDouble / maxBins).toArray
    val quantiles = data.frame.na.drop("all", features).stat.approxQuantile(features, probabilities, 1.0 / (4 * maxBins))
    quantiles.map(q => q.filterNot(_.isNaN).distinct.sorted)
  }

  /** Checks locked boundaries, naming the feature at fault. */
  def validate(boundaries: Array[Array[Double]], featureCols: Array[String]): Unit = {
    if (boundaries.length != featureCols.length)
      throw new IllegalArgumentException(s"locked boundaries cover ${boundaries.length} features but featureCols has ${featureCols.length}")
    boundaries.zip(featureCols).foreach { case (b, name) =>
      if (b.exists(_.isNaN)) throw new IllegalArgumentException(s"locked boundaries of feature '$name' contain NaN")
      b.sliding(2).foreach {
        case Array(x, y) if !(x < y) =>
          throw new IllegalArgumentException(s"locked boundaries of feature '$name' must be strictly increasing, but $x is followed by $y")
        case _ =>
      }
      if (b.length > 65534) throw new IllegalArgumentException(s"locked boundaries of feature '$name' have ${b.length} values; at most 65,534")
    }
  }

  /**
   * Boundaries from a feature's distinct values (sorted ascending) and their counts. With at most
   * `maxBins` distinct values every value but the largest is a boundary, so every distinct value is
   * a candidate threshold (as in policytree). Otherwise boundary j is the smallest value whose
   * cumulative count reaches ⌈j·n/maxBins⌉. The largest value is never a boundary: `x <= max` holds
   * for every row and would split nothing.
   */
  def edgesFromCounts(valueCounts: Array[(Double, Long)], maxBins: Int): Array[Double] = {
    val m = valueCounts.length
    if (m <= maxBins) valueCounts.iterator.take(m - 1).map(_._1).toArray
    else {
      val total = valueCounts.iterator.map(_._2).sum
      val out = Array.newBuilder[Double]
      var i = 0
      var cum = valueCounts(0)._2
      var last = Double.NaN
      var j = 1
      while (j < maxBins) {
        val target = (j.toLong * total + maxBins - 1) / maxBins
        while (cum < target) {
          i += 1
          cum += valueCounts(i)._2
        }
        val v = valueCounts(i)._1
        if (i < m - 1 && !(v == last)) {
          out += v
          last = v
        }
        j += 1
      }
      out.result()
    }
  }
}

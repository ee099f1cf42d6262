package org.sparkpolicy.rewards

import org.apache.spark.sql.catalyst.expressions.GenericInternalRow
import org.sparkpolicy.bridge.FixedPoint
import org.sparkpolicy.train.{AipwSettings, BinnedBlocks, Boundaries, SearchGrid}

/**
 * AIPW without Spark, for rows held in this JVM: every boundary from `Boundaries.edgesFromCounts` over
 * all rows (the exact strategy when the sample covers the data), blocks from `BinnedBlocks.encode`,
 * outcome trees from `CrossFitting.fitTreesLocal` (the native kernel, split search and
 * `TreeGrower` of the distributed path, as one partition) and Γ from `AipwScorer`. Statistical
 * tests replicate whole fits with it in milliseconds.
 */
private[sparkpolicy] object InProcessAipw {

  /**
   * `x(i)(f)`: feature f of row i (NaN = missing); `arm(i)` in 0 until `arms`; `fold(i)` in 0 until
   * `settings.folds`; `propensity(i)` the received arm's probability when given (else NaN and
   * `settings.propensityModel` decides: the arm's share of all rows, or the leaf share).
   */
  def scores(x: Array[Array[Double]], arm: Array[Int], y: Array[Double], fold: Array[Int], arms: Int, maxBins: Int,
      settings: AipwSettings, propensity: Option[Array[Double]] = None): InProcessScores = {
    val n = x.length
    val nFeatures = x.head.length
    val edges = Array.tabulate(nFeatures) { f =>
      val counts = x.iterator.map(_(f)).filterNot(_.isNaN).map(v => if (v == 0.0) 0.0 else v).toSeq.groupBy(identity)
        .map { case (v, vs) => v -> vs.size.toLong }.toArray.sortBy(_._1)
      Boundaries.edgesFromCounts(counts, maxBins)
    }
    val shift = FixedPoint.rewardShift(n, y.iterator.map(math.abs).maxOption.getOrElse(0.0))
    val channels = 2 * arms + 1
    val rows = Iterator.range(0, n).map { i =>
      val values = new Array[Any](nFeatures + channels)
      var f = 0
      while (f < nFeatures) { values(f) = x(i)(f); f += 1 }
      values(nFeatures + arm(i)) = y(i) // the same channels as CrossFitting.channelColumns
      (0 until arms).foreach { a =>
        if (a != arm(i)) values(nFeatures + a) = 0.0
        values(nFeatures + arms + a) = if (a == arm(i)) 1.0 else 0.0
      }
      values(nFeatures + 2 * arms) = fold(i).toDouble
      new GenericInternalRow(values): org.apache.spark.sql.catalyst.InternalRow
    }
    val blocks = BinnedBlocks.encode(rows, nFeatures, channels, edges, shift, Some(arms)).toArray
    val trees = CrossFitting.fitTreesLocal(blocks, arms, shift, SearchGrid.binned(edges), settings)
    val counts = Array.fill(arms)(0L)
    arm.foreach(a => counts(a) += 1)
    val mode = if (propensity.isDefined) "column" else settings.propensityModel
    val scorer = AipwScorer(arms, settings.propensityFloor, mode, counts.map(_.toDouble / n), trees)
    var clipped = 0L
    val gamma = Array.tabulate(n) { i =>
      val out = new Array[Double](arms)
      if (scorer.score(f => x(i)(f), fold(i), arm(i), y(i), propensity.map(_(i)).getOrElse(Double.NaN), out)) clipped += 1
      out
    }
    InProcessScores(gamma, trees, clipped)
  }
}

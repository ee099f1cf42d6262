package org.sparkpolicy.train

import org.apache.spark.rdd.RDD

/**
 * One partition's boundary-sample candidates, drawn in the validation pass before the row count is known.
 * The sample is every kept row whose hash unit u is below `rate = min(1, sampleSize / n)` (as in
 * `Boundaries.compute`); n is known only when the pass ends, but it is at least the rows a task has seen
 * so far, so a row is kept when u < sampleSize / seen, a superset of the sample. Rows above the current
 * bound are dropped whenever the buffer fills, and once more at the end, so a task keeps about
 * min(its rows, sampleSize) rows. Values: each numeric feature's double, NaN when missing, -0.0 as 0.0.
 */
private[sparkpolicy] final class SampleCandidates(nValues: Int, sampleSize: Int) extends Serializable {
  private var units = new Array[Double](64)
  private var values = new Array[Double](64 * nValues)
  private var size = 0
  private var seen = 0L

  private def bound: Double = sampleSize.toDouble / seen

  /**
   * Counts one kept row with hash unit `u`: the offset of its `nValues` values in [[set]]'s array when it
   * may be in the sample (the caller sets them before the next offer), else -1.
   */
  def offer(u: Double): Int = {
    seen += 1
    val b = bound
    if (b >= 1.0 || u < b) {
      if (size == units.length) {
        compact()
        if (2 * size > units.length) {
          units = java.util.Arrays.copyOf(units, 2 * units.length)
          values = java.util.Arrays.copyOf(values, 2 * values.length)
        }
      }
      units(size) = u
      size += 1
      (size - 1) * nValues
    } else -1
  }

  def set(at: Int, value: Double): Unit = values(at) = if (value.isNaN) Double.NaN else if (value == 0.0) 0.0 else value

  /** Keeps the rows below the current bound, in order. */
  private def compact(): Unit = if (bound < 1.0) {
    val b = bound
    var kept = 0
    var i = 0
    while (i < size) {
      if (units(i) < b) {
        units(kept) = units(i)
        System.arraycopy(values, i * nValues, values, kept * nValues, nValues)
        kept += 1
      }
      i += 1
    }
    size = kept
  }

  /** The task's last compaction, trimming the buffers to the candidates. */
  def finish(): SampleCandidates = {
    compact()
    units = java.util.Arrays.copyOf(units, size)
    values = java.util.Arrays.copyOf(values, size * nValues)
    this
  }

  def candidates: Int = size

  /**
   * The partition's sorted (value, count) run per feature of the rows with `rate >= 1 || u < rate`, as
   * `Boundaries.compute` sends them; `featureOf(j)` is the feature index of value column j.
   */
  def runs(rate: Double, featureOf: Array[Int]): Iterator[(Int, ValueCounts)] = {
    val kept = (0 until size).filter(i => rate >= 1.0 || units(i) < rate).toArray
    // The values are row-major: a feature at a time would read one value per cache line (a 16 KB stride at
    // 2,000 features). Features are gathered a block at a time instead, each row's block read contiguously.
    val block = 64
    Iterator.range(0, nValues, block).flatMap { j0 =>
      val j1 = math.min(nValues, j0 + block)
      val columns = Array.fill(j1 - j0)(new Array[Double](kept.length))
      val filled = new Array[Int](j1 - j0)
      var k = 0
      while (k < kept.length) {
        val at = kept(k) * nValues
        var j = j0
        while (j < j1) {
          val v = values(at + j)
          if (!v.isNaN) { columns(j - j0)(filled(j - j0)) = v; filled(j - j0) += 1 }
          j += 1
        }
        k += 1
      }
      (j0 until j1).iterator.map(j => featureOf(j) -> ValueCounts.of(java.util.Arrays.copyOf(columns(j - j0), filled(j - j0))))
    }.filter(_._2.size > 0)
  }
}

/**
 * The validation pass's boundary sample: every partition's candidates, persisted until the boundaries
 * are placed (`Boundaries.fromSample`), and the kept row count that fixes the sample rate.
 */
private[sparkpolicy] final class BoundarySample(cached: RDD[_], candidates: RDD[SampleCandidates], val nRows: Long, sampleSize: Int,
    val nFeatures: Int, featureOf: Array[Int]) {
  /** The rate `Boundaries.compute` samples at. */
  def rate: Double = math.min(1.0, sampleSize.toDouble / nRows)

  /** Each partition's sorted runs per numeric feature, of exactly the rows `Boundaries.compute` samples. */
  def runs: RDD[(Int, ValueCounts)] = {
    val (r, f) = (rate, featureOf)
    candidates.flatMap(_.runs(r, f))
  }

  def release(): Unit = cached.unpersist(blocking = false)
}

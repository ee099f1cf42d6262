package org.sparkpolicy.train

/** A feature's distinct sampled values, ascending, with their counts: merged exactly, in any order, to the same result. */
private[sparkpolicy] final case class ValueCounts(values: Array[Double], counts: Array[Long]) {
  def size: Int = values.length
  def pairs: Array[(Double, Long)] = values.zip(counts)
}

private[sparkpolicy] object ValueCounts {
  /** Sorts `xs` (no NaN, no -0.0) in place and counts its runs. */
  def of(xs: Array[Double]): ValueCounts = {
    java.util.Arrays.sort(xs)
    val values = Array.newBuilder[Double]
    val counts = Array.newBuilder[Long]
    var i = 0
    while (i < xs.length) {
      var j = i + 1
      while (j < xs.length && xs(j) == xs(i)) j += 1
      values += xs(i)
      counts += (j - i).toLong
      i = j
    }
    ValueCounts(values.result(), counts.result())
  }

  /** Two sorted runs as one, counts of equal values added. */
  def merge(a: ValueCounts, b: ValueCounts): ValueCounts = {
    val values = new Array[Double](a.size + b.size)
    val counts = new Array[Long](a.size + b.size)
    var (i, j, n) = (0, 0, 0)
    while (i < a.size || j < b.size) {
      if (j == b.size || (i < a.size && a.values(i) < b.values(j))) {
        values(n) = a.values(i); counts(n) = a.counts(i); i += 1
      } else if (i == a.size || b.values(j) < a.values(i)) {
        values(n) = b.values(j); counts(n) = b.counts(j); j += 1
      } else {
        values(n) = a.values(i); counts(n) = a.counts(i) + b.counts(j); i += 1; j += 1
      }
      n += 1
    }
    ValueCounts(java.util.Arrays.copyOf(values, n), java.util.Arrays.copyOf(counts, n))
  }
}

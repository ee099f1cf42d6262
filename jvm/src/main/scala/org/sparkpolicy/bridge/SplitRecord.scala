package org.sparkpolicy.bridge

/**
 * The best split of one (frontier node, feature block), chosen on an executor, with the runner-up
 * (the best split on another feature of the block). This small record is all that reaches the
 * driver per key; it never carries a histogram. Decodes `split_record::SplitRecord::encode` (native/core/src/split_record.rs).
 */
private[sparkpolicy] final case class SplitRecord(
    nodeId: Int,
    featureBlock: Int,
    best: Option[Candidate],
    runnerUp: Option[Candidate],
    totals: Array[Long],
    left: Array[Long],
    right: Array[Long],
    refine: Vector[RefineBin] = Vector.empty,
    leftOut: Option[BigInt] = None)

private[sparkpolicy] object SplitRecord {
  /** Longs of one candidate: [present, feature, threshold bin, missing left, reward hi, reward lo]. */
  private[bridge] val CandidateLongs = 6

  /** The candidate at `rec(at)` (also read from a pair record's children trailer, `PairRecord`). */
  private[bridge] def candidate(rec: Array[Long], at: Int): Option[Candidate] =
    if (rec(at) != 1) None
    else {
      val reward = (BigInt(rec(at + 4)) << 64) + (BigInt(rec(at + 5)) & ((BigInt(1) << 64) - 1))
      Some(Candidate(rec(at + 1).toInt, rec(at + 2).toInt, rec(at + 3) == 1, reward))
    }

  private def i128(hi: Long, lo: Long): BigInt = (BigInt(hi) << 64) + (BigInt(lo) & ((BigInt(1) << 64) - 1))

  /**
   * `[present …]` ×2, the bin count n, the left-out bound `[present, hi, lo]`, totals, left, right (K + 1 longs
   * each), then n × [feature, bin, bound hi, bound lo].
   */
  def decode(nodeId: Int, featureBlock: Int, rec: Array[Long], nArms: Int): SplitRecord = {
    val stride = nArms + 1
    val base = 2 * CandidateLongs + 4
    val n = if (rec.length >= base) rec(2 * CandidateLongs) else -1L
    require(n >= 0 && rec.length == base + 3 * stride + 4 * n,
      s"split record has ${rec.length} longs and $n bins to refine, expected ${base + 3 * stride} + 4 per bin")
    val at = 2 * CandidateLongs + 1
    val leftOut = if (rec(at) == 1) Some(i128(rec(at + 1), rec(at + 2))) else None
    val bins = base + 3 * stride
    val refine = Vector.tabulate(n.toInt) { i =>
      val b = bins + 4 * i
      RefineBin(rec(b).toInt, rec(b + 1).toInt, i128(rec(b + 2), rec(b + 3)))
    }
    SplitRecord(nodeId, featureBlock, candidate(rec, 0), candidate(rec, CandidateLongs),
      totals = rec.slice(base, base + stride),
      left = rec.slice(base + stride, base + 2 * stride),
      right = rec.slice(base + 2 * stride, base + 3 * stride),
      refine, leftOut)
  }
}

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
    window: Option[RefineWindow] = None)

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

  def decode(nodeId: Int, featureBlock: Int, rec: Array[Long], nArms: Int): SplitRecord = {
    val stride = nArms + 1
    val base = 2 * CandidateLongs
    require(rec.length == base + 2 + 5 * stride, s"split record has ${rec.length} longs, expected ${base + 2 + 5 * stride}")
    val w = base + 3 * stride
    val window = if (rec(w) < 0) None
      else Some(RefineWindow(rec(w).toInt, rec(w + 1).toInt, rec.slice(w + 2, w + 2 + stride), rec.slice(w + 2 + stride, w + 2 + 2 * stride)))
    SplitRecord(nodeId, featureBlock, candidate(rec, 0), candidate(rec, CandidateLongs),
      totals = rec.slice(base, base + stride),
      left = rec.slice(base + stride, base + 2 * stride),
      right = rec.slice(base + 2 * stride, base + 3 * stride),
      window)
  }
}

package org.sparkpolicy.exec

/**
 * The best split of one (frontier node, feature block), as chosen on an executor. This small
 * record is all that reaches the driver per key; it never carries a histogram.
 * Decodes the flat layout of `split::encode_split` (native/core/src/split.rs).
 */
private[sparkpolicy] final case class SplitRecord(
    nodeId: Int,
    featureBlock: Int,
    found: Boolean,
    feature: Int,
    thresholdBin: Int,
    missingLeft: Boolean,
    reward: BigInt,
    totals: Array[Long],
    left: Array[Long],
    right: Array[Long])

private[sparkpolicy] object SplitRecord {
  def decode(nodeId: Int, featureBlock: Int, rec: Array[Long], nArms: Int): SplitRecord = {
    val stride = nArms + 1
    require(rec.length == 6 + 3 * stride, s"split record has ${rec.length} longs, expected ${6 + 3 * stride}")
    val reward = (BigInt(rec(4)) << 64) + (BigInt(rec(5)) & ((BigInt(1) << 64) - 1))
    SplitRecord(
      nodeId,
      featureBlock,
      found = rec(0) == 1,
      feature = rec(1).toInt,
      thresholdBin = rec(2).toInt,
      missingLeft = rec(3) == 1,
      reward = reward,
      totals = rec.slice(6, 6 + stride),
      left = rec.slice(6 + stride, 6 + 2 * stride),
      right = rec.slice(6 + 2 * stride, 6 + 3 * stride))
  }
}

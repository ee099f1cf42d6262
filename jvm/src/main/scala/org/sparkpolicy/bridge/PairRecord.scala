package org.sparkpolicy.bridge

/**
 * The two-level search's result for one (frontier node, root feature block), decoding
 * `pair_record::PairRecord::encode` (native/core/src/pair_record.rs): `split` is a split record whose
 * best candidate is the root split of the node's best depth-2 subtree, its reward the subtree's (so
 * `TreeGrower` consumes it as a greedy record), and the children are the splits that subtree puts
 * under the root (None: a leaf), for the decision log. Thresholds are the block's (fine) codes.
 */
private[sparkpolicy] final case class PairRecord(split: SplitRecord, leftChild: Option[Candidate], rightChild: Option[Candidate])

private[sparkpolicy] object PairRecord {
  /** Longs after the split record: the left and the right child. */
  val TrailerLongs: Int = 2 * SplitRecord.CandidateLongs

  def decode(nodeId: Int, rootBlock: Int, rec: Array[Long], nArms: Int): PairRecord = {
    require(rec.length > TrailerLongs, s"pair record has ${rec.length} longs, expected a split record and $TrailerLongs")
    val at = rec.length - TrailerLongs
    PairRecord(SplitRecord.decode(nodeId, rootBlock, rec.take(at), nArms), SplitRecord.candidate(rec, at),
      SplitRecord.candidate(rec, at + SplitRecord.CandidateLongs))
  }
}

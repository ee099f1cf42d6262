package org.sparkpolicy.exec

import java.nio.charset.StandardCharsets

/**
 * The JSON config blobs passed beside each native call. Field names mirror
 * `native/core/src/config.rs`; both sides change together with `NativeLib.ABI_VERSION`.
 */
private[sparkpolicy] object NativeConfigs {
  private def ints(xs: Iterable[Int]): String = xs.mkString("[", ",", "]")

  private def bytes(s: String): Array[Byte] = s.getBytes(StandardCharsets.UTF_8)

  /** `unscaledFrom`: channels from this index on are stored as integers (outcome-tree counts and fold). */
  def block(nArms: Int, edges: Array[Array[Double]], shift: Int, unscaledFrom: Option[Int] = None): Array[Byte] = {
    val unscaled = unscaledFrom.map(u => s""","unscaled_from":$u""").getOrElse("")
    bytes(s"""{"n_arms":$nArms,"edge_counts":${ints(edges.map(_.length))},"shift":$shift$unscaled}""")
  }

  /** `skipRows` (channel, value): rows whose channel holds the value feed no histogram (a held-out fold). */
  def kernel(nArms: Int, codesPerFeature: Array[Int], frontier: Array[Int], chunks: Seq[Chunk], threads: Int, tag: String,
      skipRows: Option[(Int, Long)] = None): Array[Byte] = {
    val skip = skipRows.map { case (c, v) => s""","skip_rows":{"channel":$c,"value":$v}""" }.getOrElse("")
    val cs = chunks.map(c =>
      s"""{"slot_start":${c.slotStart},"slot_end":${c.slotEnd},"feature_start":${c.featureStart},"feature_end":${c.featureEnd}}""")
    bytes(s"""{"n_arms":$nArms,"codes_per_feature":${ints(codesPerFeature)},"frontier":${ints(frontier)},"chunks":${cs.mkString("[", ",", "]")},"threads":$threads,"tag":"${tag.filter(c => c != '"' && c != '\\')}"$skip}""")
  }

  /** `outcomeArms` > 0 selects the outcome-tree criterion over that many arms (see native/core/src/outcome.rs). */
  def split(nArms: Int, minNodeSize: Long, featureStart: Int, codes: Array[Int], outcomeArms: Int = 0,
      categorical: Array[Boolean] = Array.empty): Array[Byte] = {
    val criterion = if (outcomeArms > 0) s""","criterion":"outcome","outcome_arms":$outcomeArms""" else ""
    val kinds = if (categorical.contains(true)) s""","categorical":${categorical.mkString("[", ",", "]")}""" else ""
    bytes(s"""{"n_arms":$nArms,"min_node_size":$minNodeSize,"feature_start":$featureStart,"codes_per_feature":${ints(codes)}$criterion$kinds}""")
  }

  def scorer(nFeatures: Int, nArms: Int): Array[Byte] =
    bytes(s"""{"n_features":$nFeatures,"n_arms":$nArms}""")
}

/** A memory-bounded unit of histogram work: frontier slots [slotStart, slotEnd) × features [featureStart, featureEnd). */
private[sparkpolicy] final case class Chunk(slotStart: Int, slotEnd: Int, featureStart: Int, featureEnd: Int)

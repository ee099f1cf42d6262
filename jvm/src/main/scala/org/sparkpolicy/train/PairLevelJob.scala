package org.sparkpolicy.train

import org.sparkpolicy.bridge.{NativeConfig, PairLayout, PairSearch}
import org.sparkpolicy.ml.model.NodeTable

/**
 * What one level of the two-level search needs besides the blocks: `codesPerFeature` are the block
 * (fine) codes per feature (edges + 2), `coarseCuts` per feature the fine edge indices of its coarse
 * grid (None, or an empty array of options: search the fine codes). Thresholds in the records are fine.
 */
private[sparkpolicy] final case class PairLevelJob(
    tree: NodeTable,
    frontier: Array[Int],
    plan: PairPlan,
    codesPerFeature: Array[Int],
    coarseCuts: Array[Option[Array[Int]]],
    nArms: Int,
    minNodeSize: Int,
    nativeThreads: Int,
    depth: Int,
    categorical: Array[Boolean] = Array.empty,
    skipRows: Option[(Int, Long)] = None) {
  /** Histogram codes per feature: coarse cuts + 2, or the fine codes. */
  val histCodes: Array[Int] = PairLevelJob.histCodes(codesPerFeature, coarseCuts)
  val chunks: Vector[NativeConfig.Chunk] = plan.chunks
  private val blockOf: Map[(Int, Int), Int] = plan.rootBlocks.zipWithIndex.toMap
  /** Per chunk: its root block's index and the layout of its histograms. */
  val chunkLayout: Vector[(Int, PairLayout)] =
    chunks.map(c => (blockOf((c.featureStart, c.featureEnd)), PairLayout(histCodes.toSeq, c.featureStart, c.featureEnd, nArms)))
  private val cuts: Seq[Option[Seq[Int]]] = if (coarseCuts.forall(_.isEmpty)) Nil else coarseCuts.map(_.map(_.toSeq)).toSeq
  val searches: Vector[PairSearch] = {
    // Features are flagged only when one is categorical (Rust reads no flags as all numeric).
    val kinds = if (categorical.contains(true)) categorical.toSeq else Nil
    val fine = if (cuts.isEmpty) Nil else codesPerFeature.toSeq
    plan.rootBlocks.map { case (r0, r1) =>
      new PairSearch(NativeConfig.PairSplit(nArms, minNodeSize, r0, r1, histCodes.toSeq, kinds, fine, cuts))
    }
  }
  def kernelConfig(tag: String): NativeConfig.Pair =
    NativeConfig.Pair(nArms, codesPerFeature.toSeq, frontier.toSeq, chunks, nativeThreads, tag,
      skipRows.map { case (channel, value) => NativeConfig.SkipRows(channel, value) }, cuts)
}

private[sparkpolicy] object PairLevelJob {
  def histCodes(codesPerFeature: Array[Int], coarseCuts: Array[Option[Array[Int]]]): Array[Int] =
    codesPerFeature.indices.map(f => coarseCuts.lift(f).flatten.fold(codesPerFeature(f))(_.length + 2)).toArray

  /** The level's job with its memory plan (`PairPlan`): what TreeTrainer's level loop passes. */
  def plan(tree: NodeTable, frontier: Array[Int], codesPerFeature: Array[Int], coarseCuts: Array[Option[Array[Int]]], nArms: Int,
      minNodeSize: Int, nativeThreads: Int, depth: Int, categorical: Array[Boolean], maxMemoryMB: Int, minKeys: Int): PairLevelJob = {
    val plan = PairPlan(frontier.length, histCodes(codesPerFeature, coarseCuts), nArms, maxMemoryMB, minKeys)
    PairLevelJob(tree, frontier, plan, codesPerFeature, coarseCuts, nArms, minNodeSize, nativeThreads, depth, categorical)
  }
}

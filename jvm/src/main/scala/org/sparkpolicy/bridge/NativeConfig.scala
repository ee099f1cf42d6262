package org.sparkpolicy.bridge

import com.fasterxml.jackson.annotation.JsonInclude
import com.fasterxml.jackson.databind.{DeserializationFeature, ObjectMapper, PropertyNamingStrategies}
import com.fasterxml.jackson.module.scala.{ClassTagExtensions, DefaultScalaModule}

/**
 * The JSON config blobs passed beside each native call, typed: one case class per config of
 * `native/core/src/config.rs`, serialized by Jackson (which Spark ships) with Rust's snake_case field
 * names, `None` left out. Both sides change together with `NativeLib.ABI_VERSION`; the round-trip test
 * (`WireFormatSuite`) decodes each one in Rust and compares what comes back.
 */
private[sparkpolicy] sealed trait NativeConfig

private[sparkpolicy] object NativeConfig {
  /** Bins one partition's rows into a block. `unscaledFrom`: channels from this index on are stored as integers. */
  final case class Block(nArms: Int, edgeCounts: Seq[Int], shift: Int, unscaledFrom: Option[Int] = None) extends NativeConfig

  /** Rows whose `channel` holds `value` feed no histogram (a held-out fold). */
  final case class SkipRows(channel: Int, value: Long)

  /** A memory-bounded unit of histogram work: frontier slots [slotStart, slotEnd) × features [featureStart, featureEnd). */
  final case class Chunk(slotStart: Int, slotEnd: Int, featureStart: Int, featureEnd: Int)

  /**
   * One level's histogram pass over one partition. `coarseCuts`: per feature the fine edge indices of its
   * coarse grid (None: its block codes; Nil: every feature's block codes), as `native/core/src/coarse.rs`.
   */
  final case class Kernel(nArms: Int, codesPerFeature: Seq[Int], frontier: Seq[Int], chunks: Seq[Chunk], threads: Int, tag: String,
      skipRows: Option[SkipRows] = None, coarseCuts: Seq[Option[Seq[Int]]] = Nil, rowSample: Option[RowSample] = None,
      bounds: Boolean = false) extends NativeConfig

  /**
   * A forest tree's rows (`native/core/src/row_sample.rs`, which defines the rule): the blocks carry each
   * row's hash as a last channel past `nArms`, and a row feeds the tree when its hash mixed with `seed` and
   * `tree` falls below `threshold` (rate × 2^32) and in `half` (`all`, `structure`, `estimation`).
   */
  final case class RowSample(seed: Long, tree: Int, threshold: Long, half: String)

  object RowSample {
    val AllRows: Long = 1L << 32
    val All = "all"
    val Structure = "structure"
    val Estimation = "estimation"
    def threshold(rate: Double): Long = math.max(1L, math.min(AllRows, math.round(rate * AllRows.toDouble)))
  }

  /**
   * Split search over one merged (node, feature block) histogram. `criterion` is `policy` (best-arm sums)
   * or `outcome` (an AIPW outcome tree over `outcomeArms` arms); `categorical` flags the block's features.
   * With `fineCodes` (the block codes) and `coarseCuts`, the histogram holds coarse codes and thresholds
   * come back fine; with `bounds` (the kernel's too) the record lists the coarse bins to refine: the best's
   * own and, past them, at most `refineLimit` (0: all) by bound, with the largest bound left out.
   */
  final case class Split(nArms: Int, minNodeSize: Long, featureStart: Int, codesPerFeature: Seq[Int], criterion: String = Policy,
      outcomeArms: Int = 0, categorical: Seq[Boolean] = Nil, fineCodes: Seq[Int] = Nil, coarseCuts: Seq[Option[Seq[Int]]] = Nil,
      bounds: Boolean = false, refineLimit: Int = 0) extends NativeConfig

  /** One frontier slot's feature to refine: its coarse value bins `bins` (ascending) on their fine codes. */
  final case class RefineGroup(slot: Int, feature: Int, bins: Seq[Int])

  /** Groups `[start, end)` of a refine config, emitted together. */
  final case class GroupRange(start: Int, end: Int)

  /**
   * One level's threshold-refinement pass over one partition (`refine.rs`). A forest tree's pass has its
   * `rowSample` (the blocks then carry the row hash past `nArms`, as for `Kernel`).
   */
  final case class Refine(nArms: Int, codesPerFeature: Seq[Int], coarseCuts: Seq[Option[Seq[Int]]], frontier: Seq[Int],
      groups: Seq[RefineGroup], chunks: Seq[GroupRange], tag: String, skipRows: Option[SkipRows] = None,
      rowSample: Option[RowSample] = None) extends NativeConfig

  /** The split search over one merged refine group histogram (`refine::refine_split`). */
  final case class RefineSplit(nArms: Int, minNodeSize: Long, feature: Int, fineCodes: Int, cuts: Seq[Int], bins: Seq[Int])
      extends NativeConfig

  /**
   * One level's pair-histogram pass over one partition (the two-level search): chunks are frontier slots ×
   * *root* features (every chunk pairs its roots with all features); `codesPerFeature` are the block (fine)
   * codes, `coarseCuts` per feature the fine edge indices of its coarse grid (None: its fine codes; Nil: all fine).
   */
  final case class Pair(nArms: Int, codesPerFeature: Seq[Int], frontier: Seq[Int], chunks: Seq[Chunk], threads: Int, tag: String,
      skipRows: Option[SkipRows] = None, coarseCuts: Seq[Option[Seq[Int]]] = Nil) extends NativeConfig

  /**
   * The two-level search over one merged (node, root feature block) pair histogram: roots
   * [featureStart, featureEnd), `codesPerFeature` the histogram codes of every feature, `categorical` flags
   * of every feature (Nil: all numeric), and `fineCodes` with `coarseCuts` of every feature when the
   * histograms are coarse (thresholds come back fine).
   */
  final case class PairSplit(nArms: Int, minNodeSize: Long, featureStart: Int, featureEnd: Int, codesPerFeature: Seq[Int],
      categorical: Seq[Boolean] = Nil, fineCodes: Seq[Int] = Nil, coarseCuts: Seq[Option[Seq[Int]]] = Nil) extends NativeConfig

  /** Compiling a node table (or, when `forest`, a stream of one per tree) for scoring. */
  final case class Scorer(nFeatures: Int, nArms: Int, forest: Boolean = false) extends NativeConfig

  /** Reading each row's leaf from a training block: the contract's codes per feature. */
  final case class Leaves(codesPerFeature: Seq[Int]) extends NativeConfig

  val Policy = "policy"
  val Outcome = "outcome"

  private val mapper: ObjectMapper with ClassTagExtensions = {
    val m = new ObjectMapper() with ClassTagExtensions
    m.registerModule(DefaultScalaModule)
    m.setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
    m.setDefaultPropertyInclusion(JsonInclude.Value.construct(JsonInclude.Include.NON_ABSENT, JsonInclude.Include.NON_ABSENT))
    m.configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, true)
    m
  }

  def toJson(config: NativeConfig): Array[Byte] = mapper.writeValueAsBytes(config)

  def fromJson[T <: NativeConfig: scala.reflect.ClassTag](json: Array[Byte]): T = mapper.readValue[T](json)
}

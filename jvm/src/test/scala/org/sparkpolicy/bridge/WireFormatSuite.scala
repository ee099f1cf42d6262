package org.sparkpolicy.bridge

import java.io.ByteArrayOutputStream
import java.nio.{ByteBuffer, ByteOrder}
import java.nio.channels.Channels

import scala.jdk.CollectionConverters._

import org.apache.arrow.vector.{Float8Vector, IntVector, VectorSchemaRoot}
import org.apache.arrow.vector.complex.FixedSizeListVector
import org.apache.arrow.vector.ipc.{ArrowStreamReader, ArrowStreamWriter}
import org.apache.arrow.vector.types.FloatingPointPrecision
import org.apache.arrow.vector.types.pojo.{ArrowType, Field, FieldType, Schema}
import org.apache.arrow.vector.util.ByteArrayReadableSeekableByteChannel
import org.scalatest.funsuite.AnyFunSuite
import org.sparkpolicy.ml.model.{NodeTable, TreeNode}

/**
 * Every format that crosses JNI, round-tripped: the JVM encodes, the Rust module that owns the format
 * decodes and encodes again (`NativeLib.wireRoundTrip`), the JVM decodes, and the values must be the
 * ones sent. A format change made on one side only fails here.
 */
class WireFormatSuite extends AnyFunSuite {
  NativeLib.load()
  private def roundTrip(format: String, payload: Array[Byte]): Array[Byte] = NativeLib.wireRoundTrip(format, payload)

  test("node table: every column, categorical splits, infinite thresholds and values") {
    val table = NodeTable(3, Vector(
      TreeNode(1, isLeaf = false, 4, 0.25, 7, missingLeft = true, -1, 900L, Vector(0.0, 0.0, 0.0)),
      TreeNode(2, isLeaf = false, 0, 2.0, 2, missingLeft = false, -1, 500L, Vector(0.0, 0.0, 0.0), categorical = true),
      TreeNode(3, isLeaf = true, -1, 0.0, -1, missingLeft = false, 2, 400L, Vector(-1.5, 1e-300, Double.MaxValue)),
      TreeNode(4, isLeaf = true, -1, Double.PositiveInfinity, -1, missingLeft = false, 0, 250L, Vector(3.0, -0.0, 2.0)),
      TreeNode(5, isLeaf = true, -1, 0.0, -1, missingLeft = true, 1, 250L, Vector(0.1, 0.2, 0.3))))
    val back = NodeTableIpc.decode(roundTrip("node_table", NodeTableIpc.encode(table)))
    assert(back == table)
    assert(back.contentHash == table.contentHash, "-0.0 and every other bit survive")
    // A forest: one batch per tree, in tree order.
    val stump = NodeTable(3, Vector(TreeNode(1, isLeaf = true, -1, 0.0, -1, missingLeft = false, 1, 10L, Vector(0.5, 1.5, -2.0))))
    assert(NodeTableIpc.decodeAll(roundTrip("forest_tables", NodeTableIpc.encodeAll(Seq(table, stump, table)))) == Seq(table, stump, table))
  }

  test("forest score reply: per-row scores and leaves land in the task's arrays as the native scorer wrote them") {
    val forest = Seq(
      NodeTable(2, Vector(TreeNode(1, isLeaf = false, 0, 0.5, 1, missingLeft = true, -1, 4L, Vector(0.0, 0.0)),
        TreeNode(2, isLeaf = true, -1, 0.0, -1, missingLeft = false, 0, 2L, Vector(1.0, 0.25)),
        TreeNode(3, isLeaf = true, -1, 0.0, -1, missingLeft = false, 1, 2L, Vector(0.0, 3.0)))),
      NodeTable(2, Vector(TreeNode(1, isLeaf = true, -1, 0.0, -1, missingLeft = false, 1, 4L, Vector(0.5, 0.75)))))
    val payload = ScoringPayload(NodeTableIpc.encodeAll(forest), "wire-test", 1, 2, nTrees = 2)
    val model = NativeLib.modelCompile(payload.modelIpc, NativeConfig.toJson(NativeConfig.Scorer(1, 2, forest = true)))
    val scorer = NativeLib.scorerOpen(model)
    val writer = new DoubleBatchWriter(Seq("x0"), 4)
    def rows(): Array[Byte] = {
      Seq(Some(0.0), Some(1.0), None).foreach { v => v.fold(writer.setNull(0))(writer.set(0, _)); writer.endRow() }
      writer.drainToIpc()
    }
    try {
      // Rows 1..3 of four: the first row's slots stay as they were.
      val out = ScoredColumns.allocate(payload, 4, withLeaves = true)
      java.util.Arrays.fill(out.leaves, -1)
      val ipc = rows()
      assert(NativeLib.scoreInto(scorer, ipc, ipc.length, 1, out.action, out.leaf, out.scores, out.leaves) == 3)
      assert(out.nTrees == 2 && out.leaf == null)
      assert(out.leaves.toSeq == Seq(-1, -1, 2, 1, 3, 1, 2, 1))
      val expected = Seq(0.0, 0.0, (1.0 + 0.5) / 2, (0.25 + 0.75) / 2, (0.0 + 0.5) / 2, (3.0 + 0.75) / 2, (1.0 + 0.5) / 2, (0.25 + 0.75) / 2)
      assert(out.scores.toSeq == expected)
      assert(out.action.toSeq == Seq(0, 0, 1, 0))
      // Without leaves: the same scores, and no leaves array to write.
      val bare = ScoredColumns.allocate(payload, 4, withLeaves = false)
      val again = rows()
      assert(NativeLib.scoreInto(scorer, again, again.length, 1, bare.action, bare.leaf, bare.scores, bare.leaves) == 3)
      assert(bare.leaves == null && bare.scores.toSeq == expected && bare.action.toSeq == out.action.toSeq)
      val noTable = intercept[IllegalArgumentException](NativeLib.scorerLeafTable(scorer))
      assert(noTable.getMessage.contains("a forest scorer has no leaf table"), noTable.getMessage)
    } finally {
      writer.close()
      NativeLib.close(scorer)
      NativeLib.close(model)
    }
  }

  test("feature batches: nulls, NaN, -0.0 and two batches in one stream") {
    val writer = new DoubleBatchWriter(Seq("x0", "x1", "x2"), 4)
    val rows = Seq(Seq(Some(1.5), None, Some(Double.NaN)), Seq(Some(-0.0), Some(Double.NegativeInfinity), None), Seq(None, None, Some(7.0)))
    val streams = rows.grouped(2).map { batch =>
      batch.foreach { r => r.zipWithIndex.foreach { case (v, c) => v.fold(writer.setNull(c))(writer.set(c, _)) }; writer.endRow() }
      writer.drainToIpc()
    }.toVector
    writer.close()
    streams.zip(rows.grouped(2).toVector).foreach { case (ipc, batch) =>
      val back = readDoubles(roundTrip("feature_batch", ipc))
      assert(back.keys.toSeq.sorted == Seq("x0", "x1", "x2"))
      (0 until 3).foreach { c =>
        val got = back(s"x$c").map(_.map(java.lang.Double.doubleToRawLongBits))
        assert(got == batch.map(_(c).map(java.lang.Double.doubleToRawLongBits)), s"column x$c")
      }
    }
  }

  test("feature batches: the missing rows read before a drain (row keys) leave the drained batch whole") {
    // Any count of missing rows, including those that fill the writer's buffer exactly.
    (0 to 40).foreach { nulls =>
      val writer = new DoubleBatchWriter(Seq("x"), 4)
      (0 until 50).foreach { r => if (r < nulls) writer.setNull(0) else writer.set(0, r.toDouble); writer.endRow() }
      assert(writer.missingRows(0).toSeq == (0 until nulls), s"$nulls missing rows")
      assert(writer.columnValues(0).take(50).drop(nulls).toSeq == (nulls until 50).map(_.toDouble))
      val back = readDoubles(roundTrip("feature_batch", writer.drainToIpc()))("x")
      assert(back == (0 until 50).map(r => if (r < nulls) None else Some(r.toDouble)), s"$nulls missing rows")
      assert(writer.missingRows(0).isEmpty && writer.rowCount == 0)
      writer.close()
    }
  }

  test("leaf tables: each leaf's K scores") {
    val (ids, values) = (Array(3, 4, 7), Array(1.0, -2.0, 0.5, 0.25, Double.MinPositiveValue, 9.0))
    val back = LeafScores.fromIpc(roundTrip("leaf_table", writeLeafTable(ids, values, 2)), 2, ArrowAllocator.child("test"))
    assert(ids.indices.forall(i => back.scores(ids(i)).toSeq == values.slice(2 * i, 2 * i + 2).toSeq))
    assert(!back.has(5) && back.size == 8)
  }

  test("split records: both candidates, an absent runner-up, 128-bit rewards, node totals and the bins to refine") {
    val nArms = 2
    val stride = nArms + 1
    val reward = (BigInt(1) << 90) - 12345
    val bound = -(BigInt(1) << 70) + 9
    // A candidate is [present, feature, threshold bin, missing left, reward hi, reward lo]; an absent one [0, -1, -1, 0, 0, 0].
    // Then the bin count, the largest bound left out [present, hi, lo], totals, left, right, and per bin
    // [feature, coarse bin, bound hi, bound lo].
    val head = Array[Long](1, 3, 17, 1, (reward >> 64).toLong, reward.toLong, 0, -1, -1, 0, 0, 0)
    val sums = Array[Long](10, -20, 30) ++ Array[Long](4, -5, 12) ++ Array[Long](6, -15, 18)
    val leftOut = BigInt(-3)
    val rec = head ++ Array(2L, 1L, (leftOut >> 64).toLong, leftOut.toLong) ++ sums ++
      Array[Long](3, 5, (reward >> 64).toLong, reward.toLong) ++ Array[Long](4, 0, (bound >> 64).toLong, bound.toLong)
    assert(rec.length == 16 + 3 * stride + 8)
    val back = SplitRecord.decode(9, 2, longs(roundTrip("split_record", bytes(rec))), nArms)
    assert(back.best.contains(Candidate(3, 17, missingLeft = true, reward)))
    assert(back.runnerUp.isEmpty)
    assert(back.totals.toSeq == Seq(10L, -20L, 30L) && back.left.toSeq == Seq(4L, -5L, 12L) && back.right.toSeq == Seq(6L, -15L, 18L))
    assert(back.refine == Vector(RefineBin(3, 5, reward), RefineBin(4, 0, bound)) && back.leftOut.contains(leftOut))
    val none = head ++ Array(0L, 0L, 0L, 0L) ++ sums
    val plain = SplitRecord.decode(9, 2, longs(roundTrip("split_record", bytes(none))), nArms)
    assert(plain.refine.isEmpty && plain.leftOut.isEmpty)
    val bad = intercept[IllegalArgumentException](roundTrip("split_record", bytes(rec.dropRight(1))))
    assert(bad.getMessage.contains("split record"), bad.getMessage)
    val sloppy = intercept[IllegalArgumentException](roundTrip("split_record", bytes(rec.updated(7, 0L))))
    assert(sloppy.getMessage.contains("absent runner-up"), sloppy.getMessage)
  }

  test("pair records: a split record, then the subtree's children; the prefix is the split record") {
    val nArms = 2
    val reward = (BigInt(1) << 70) + 3
    val split = Array[Long](1, 0, 4, 0, (reward >> 64).toLong, reward.toLong, 1, 2, 1, 1, 0, 9, 0, 0, 0, 0) ++
      Array[Long](10, -20, 30) ++ Array[Long](4, -5, 12) ++ Array[Long](6, -15, 18)
    val children = Array[Long](1, 1, 2, 1, -1, -7) ++ Array[Long](0, -1, -1, 0, 0, 0)
    val back = PairRecord.decode(4, 1, longs(roundTrip("pair_record", bytes(split ++ children))), nArms)
    assert(back.split.best.contains(Candidate(0, 4, missingLeft = false, reward)))
    assert(back.split.runnerUp.contains(Candidate(2, 1, missingLeft = true, BigInt(9))))
    assert(back.split.totals.toSeq == Seq(10L, -20L, 30L) && back.split.right.toSeq == Seq(6L, -15L, 18L) && back.split.refine.isEmpty)
    assert(back.leftChild.contains(Candidate(1, 2, missingLeft = true, BigInt(-7))) && back.rightChild.isEmpty)
    assert((back.split.nodeId, back.split.featureBlock) == (4, 1))
    // No root split but a child's: refused by the Rust decoder.
    val absent = Array[Long](0, -1, -1, 0, 0, 0)
    val orphan = absent ++ absent ++ Array(0L, 0L, 0L, 0L) ++ Array[Long](10, -20, 30) ++ Array.fill(6)(0L)
    val e = intercept[IllegalArgumentException](roundTrip("pair_record", bytes(orphan ++ children)))
    assert(e.getMessage.contains("no best root split"), e.getMessage)
    assert(PairRecord.decode(4, 0, orphan ++ absent ++ absent, nArms).split.best.isEmpty)
  }

  test("native configs: every field of every config, optional ones present and absent") {
    val configs: Seq[NativeConfig] = Seq(
      NativeConfig.Block(3, Seq(2, 0, 63), -40),
      NativeConfig.Block(7, Seq(5), 12, unscaledFrom = Some(3)),
      NativeConfig.Kernel(3, Seq(4, 66), Seq(2, 3, 7), Seq(NativeConfig.Chunk(0, 2, 0, 1), NativeConfig.Chunk(2, 3, 1, 2)), 2,
        "stage 1 \"partition\" 0 \\ level 2"),
      NativeConfig.Kernel(7, Seq(3), Seq(1), Seq(NativeConfig.Chunk(0, 1, 0, 1)), 1, "", Some(NativeConfig.SkipRows(6, 4L))),
      NativeConfig.Kernel(3, Seq(9, 4), Seq(1), Seq(NativeConfig.Chunk(0, 1, 0, 2)), 1, "", None, Seq(Some(Seq(1, 4)), None)),
      NativeConfig.Kernel(3, Seq(9, 4), Seq(1), Seq(NativeConfig.Chunk(0, 1, 0, 2)), 1, "", None, Nil,
        Some(NativeConfig.RowSample(-5L, 7, NativeConfig.RowSample.threshold(0.5), NativeConfig.RowSample.Estimation))),
      NativeConfig.Split(3, 20L, 5, Seq(66, 66)),
      NativeConfig.Split(7, 1L, 0, Seq(3, 5), NativeConfig.Outcome, 3, Seq(false, true)),
      NativeConfig.Split(3, 1L, 0, Seq(4, 4), fineCodes = Seq(9, 4), coarseCuts = Seq(Some(Seq(1, 4)), None)),
      NativeConfig.Split(3, 1L, 0, Seq(4, 4), fineCodes = Seq(9, 4), coarseCuts = Seq(Some(Seq(1, 4)), None), bounds = true,
        refineLimit = 8),
      NativeConfig.Kernel(3, Seq(9, 4), Seq(1), Seq(NativeConfig.Chunk(0, 1, 0, 2)), 1, "", None, Seq(Some(Seq(1, 4)), None), bounds = true),
      NativeConfig.Refine(3, Seq(9, 4), Seq(Some(Seq(1, 4)), None), Seq(2, 3),
        Seq(NativeConfig.RefineGroup(0, 0, Seq(0, 2)), NativeConfig.RefineGroup(1, 0, Seq(1))),
        Seq(NativeConfig.GroupRange(0, 1), NativeConfig.GroupRange(1, 2)), "refine level 1", Some(NativeConfig.SkipRows(2, 1L))),
      NativeConfig.Refine(3, Seq(9, 4), Seq(Some(Seq(1, 4)), None), Seq(1), Seq(NativeConfig.RefineGroup(0, 0, Seq(1))),
        Seq(NativeConfig.GroupRange(0, 1)), "refine tree 4 level 2", None,
        Some(NativeConfig.RowSample(9L, 4, NativeConfig.RowSample.AllRows, NativeConfig.RowSample.Structure))),
      NativeConfig.RefineSplit(3, 2L, 4, 9, Seq(1, 4), Seq(0, 2)),
      NativeConfig.Pair(3, Seq(4, 66), Seq(2, 3), Seq(NativeConfig.Chunk(0, 2, 1, 2)), 2, "pair \"level\" 1"),
      NativeConfig.Pair(7, Seq(9, 3, 5), Seq(1), Seq(NativeConfig.Chunk(0, 1, 0, 3)), 1, "", Some(NativeConfig.SkipRows(6, 2L)),
        Seq(Some(Seq(1, 4)), None, Some(Seq.empty))),
      NativeConfig.PairSplit(3, 20L, 0, 2, Seq(66, 66, 5)),
      NativeConfig.PairSplit(2, 1L, 1, 3, Seq(4, 3, 5), Seq(false, false, true), Seq(9, 3, 5), Seq(Some(Seq(1, 4)), None, None)),
      NativeConfig.Scorer(12, 4),
      NativeConfig.Scorer(3, 2, forest = true),
      NativeConfig.Leaves(Seq(3, 66)))
    configs.foreach { c =>
      val format = c match {
        case _: NativeConfig.Block => "block_config"
        case _: NativeConfig.Kernel => "kernel_config"
        case _: NativeConfig.Refine => "refine_config"
        case _: NativeConfig.RefineSplit => "refine_split_config"
        case _: NativeConfig.Split => "split_config"
        case _: NativeConfig.Pair => "pair_config"
        case _: NativeConfig.PairSplit => "pair_split_config"
        case _: NativeConfig.Scorer => "scorer_config"
        case _: NativeConfig.Leaves => "leaves_config"
      }
      val back: NativeConfig = c match {
        case _: NativeConfig.Block => NativeConfig.fromJson[NativeConfig.Block](roundTrip(format, NativeConfig.toJson(c)))
        case _: NativeConfig.Kernel => NativeConfig.fromJson[NativeConfig.Kernel](roundTrip(format, NativeConfig.toJson(c)))
        case _: NativeConfig.Refine => NativeConfig.fromJson[NativeConfig.Refine](roundTrip(format, NativeConfig.toJson(c)))
        case _: NativeConfig.RefineSplit => NativeConfig.fromJson[NativeConfig.RefineSplit](roundTrip(format, NativeConfig.toJson(c)))
        case _: NativeConfig.Split => NativeConfig.fromJson[NativeConfig.Split](roundTrip(format, NativeConfig.toJson(c)))
        case _: NativeConfig.Pair => NativeConfig.fromJson[NativeConfig.Pair](roundTrip(format, NativeConfig.toJson(c)))
        case _: NativeConfig.PairSplit => NativeConfig.fromJson[NativeConfig.PairSplit](roundTrip(format, NativeConfig.toJson(c)))
        case _: NativeConfig.Scorer => NativeConfig.fromJson[NativeConfig.Scorer](roundTrip(format, NativeConfig.toJson(c)))
        case _: NativeConfig.Leaves => NativeConfig.fromJson[NativeConfig.Leaves](roundTrip(format, NativeConfig.toJson(c)))
      }
      assert(back == c, s"$format")
    }
  }

  /** Three rows: x0 with edges [1] (codes 0, 1, missing 2), x1 with edges [0, 2] (codes 0..2, missing 3), Γ exact at shift 20. */
  private def tinyBlock(): Array[Byte] = {
    val writer = new DoubleBatchWriter(Seq("__sp_f0", "__sp_f1", "__sp_g0", "__sp_g1"), 8)
    Seq((0.5, Some(3.0), 1.25, -2.0), (2.5, None, 0.0, 4.0), (Double.NaN, Some(-1.0), 8.0, 0.5)).foreach { case (x0, x1, g0, g1) =>
      writer.set(0, x0); x1.fold(writer.setNull(1))(writer.set(1, _)); writer.set(2, g0); writer.set(3, g1); writer.endRow()
    }
    val builder = BlockBuilder.open(NativeConfig.Block(2, Seq(1, 2), 20), Array(1.0, 0.0, 2.0))
    builder.push(writer.drainToIpc())
    writer.close()
    builder.finish()
  }

  test("training blocks: the bytes the builder made come back unchanged") {
    val block = tinyBlock()
    assert(roundTrip("training_block", block).toSeq == block.toSeq)
  }

  test("training blocks: a later pass sends the header only, and the executor's block cache serves the decoded block") {
    val root = NodeTable(2, Vector(TreeNode(1, isLeaf = true, -1, 0.0, -1, missingLeft = false, 0, 0L, Vector(0.0, 0.0))))
    def histogram(block: Array[Byte]): Seq[Long] = {
      val kernel = HistogramKernel.open(NodeTableIpc.encode(root),
        NativeConfig.Kernel(2, Seq(3, 4), Seq(1), Seq(NativeConfig.Chunk(0, 1, 0, 2)), 1, "block cache test"))
      try { kernel.addBlock(block); kernel.emit(0).toSeq } finally kernel.close()
    }
    val block = tinyBlock()
    val first = histogram(block)
    // The same header over another body (row 0's Γ0 at byte 40): the cached block answers, so the body is not read.
    val tampered = block.clone()
    tampered(40) = (tampered(40) + 1).toByte
    assert(histogram(tampered) == first, "served from the cache by the header")
    // A rebuilt block is another build: another id, its own bytes read.
    val rebuilt = tinyBlock()
    assert(rebuilt.slice(24, 32).toSeq != block.slice(24, 32).toSeq && rebuilt.drop(32).toSeq == block.drop(32).toSeq)
    // Another length under the same id is never served from the entry (the tampered body is decoded then).
    val longer = tampered ++ Array.fill[Byte](8)(0)
    assert(intercept[IllegalArgumentException](histogram(longer)).getMessage.contains("header implies"))
    // With the cache off every pass decodes its bytes: the tampered body shows.
    NativeLib.blockCacheBudget(0)
    try assert(histogram(tampered) != first, "decoded from the bytes")
    finally NativeLib.blockCacheBudget(BlockCache.DefaultMB << 20)
    assert(histogram(block) == first)
  }

  test("histogram cells: HistogramLayout reads a real kernel's output where the kernel wrote it") {
    val root = NodeTable(2, Vector(TreeNode(1, isLeaf = true, -1, 0.0, -1, missingLeft = false, 0, 0L, Vector(0.0, 0.0))))
    val kernel = HistogramKernel.open(NodeTableIpc.encode(root),
      NativeConfig.Kernel(2, Seq(3, 4), Seq(1), Seq(NativeConfig.Chunk(0, 1, 0, 2)), 1, "layout test"))
    try {
      kernel.addBlock(tinyBlock())
      val hist = kernel.emit(0)
      val layout = HistogramLayout(Seq(3, 4), 2)
      assert(hist.length == layout.cellsPerNode && layout.rows(hist, 0) == 3)
      val q = (g: Double) => (g * (1 << 20)).toLong
      // (feature, code) -> the one row there (Γ0, Γ1), or none.
      val expected = Map((0, 0) -> (1.25, -2.0), (0, 1) -> (0.0, 4.0), (0, 2) -> (8.0, 0.5),
        (1, 0) -> (8.0, 0.5), (1, 2) -> (1.25, -2.0), (1, 3) -> (0.0, 4.0))
      for (f <- 0 until 2; code <- 0 until Seq(3, 4)(f)) {
        val cell = (0 to 2).map(ch => hist(layout.offset(0, f, code, ch)))
        val want = expected.get((f, code)).map { case (a, b) => Seq(q(a), q(b), 1L) }.getOrElse(Seq(0L, 0L, 0L))
        assert(cell == want, s"feature $f code $code")
      }
      assert(layout.node(hist, 0).toSeq == hist.toSeq)
    } finally kernel.close()
  }

  test("histogram cells with bounds: a coarse feature's positive-part sums follow its codes, where the layout expects them") {
    val root = NodeTable(2, Vector(TreeNode(1, isLeaf = true, -1, 0.0, -1, missingLeft = false, 0, 0L, Vector(0.0, 0.0))))
    // x1's fine edges [0, 2] with one coarse cut at fine edge 0: coarse codes 0 (x1 <= 0), 1 (above), 2 (missing).
    val kernel = HistogramKernel.open(NodeTableIpc.encode(root),
      NativeConfig.Kernel(2, Seq(3, 4), Seq(1), Seq(NativeConfig.Chunk(0, 1, 0, 2)), 1, "bounds layout test", None,
        Seq(None, Some(Seq(0))), bounds = true))
    try {
      kernel.addBlock(tinyBlock())
      val hist = kernel.emit(0)
      val layout = HistogramLayout(Seq(3, 3), 2, Seq(false, true))
      assert(hist.length == layout.cellsPerNode && layout.cellsPerNode == 3 * 3 + 3 * 3 + 2 * 2 && layout.rows(hist, 0) == 3)
      val q = (g: Double) => (g * (1 << 20)).toLong
      // x1's coarse codes: row 2 (x1 = -1; Γ 8, 0.5) in bin 0, row 0 (x1 = 3; Γ 1.25, -2) in bin 1, row 1 missing.
      assert((0 to 2).map(ch => hist(layout.offset(0, 1, 0, ch))) == Seq(q(8.0), q(0.5), 1L))
      assert((0 to 2).map(ch => hist(layout.offset(0, 1, 2, ch))) == Seq(q(0.0), q(4.0), 1L))
      // Then per value bin each arm's max(Γ, 0): bin 0 (8, 0.5), bin 1 (1.25, 0); the missing code has none.
      assert(hist.slice(18, 22).toSeq == Seq(q(8.0), q(0.5), q(1.25), 0L))
    } finally kernel.close()
  }

  test("pair histogram cells: PairLayout reads a real pair kernel's output where the kernel wrote it") {
    val root = NodeTable(2, Vector(TreeNode(1, isLeaf = true, -1, 0.0, -1, missingLeft = false, 0, 0L, Vector(0.0, 0.0))))
    val kernel = PairKernel.open(NodeTableIpc.encode(root),
      NativeConfig.Pair(2, Seq(3, 4), Seq(1), Seq(NativeConfig.Chunk(0, 1, 0, 2)), 2, "pair layout test"))
    try {
      kernel.addBlock(tinyBlock())
      val hist = kernel.emit(0)
      val layout = PairLayout(Seq(3, 4), 0, 2, 2)
      assert(hist.length == layout.cellsPerNode && layout.rows(hist, 0) == 3 && layout.cellsPerNode == (3 + 4) * 7 * 3)
      val q = (g: Double) => (g * (1 << 20)).toLong
      // Each row's codes on (x0, x1) and its (Γ0, Γ1): a row adds to cell (its r code, its g code) of every (r, g).
      val rows = Seq((Seq(0, 2), (1.25, -2.0)), (Seq(1, 3), (0.0, 4.0)), (Seq(2, 0), (8.0, 0.5)))
      for (r <- 0 until 2; g <- 0 until 2; cr <- 0 until Seq(3, 4)(r); cg <- 0 until Seq(3, 4)(g)) {
        val cell = (0 to 2).map(ch => hist(layout.offset(0, r, g, cr, cg, ch)))
        val expected = rows.collectFirst { case (c, (a, b)) if c(r) == cr && c(g) == cg => Seq(q(a), q(b), 1L) }.getOrElse(Seq(0L, 0L, 0L))
        assert(cell == expected, s"root $r, g $g, codes ($cr, $cg)")
      }
      assert(layout.node(hist, 0).toSeq == hist.toSeq)
      // And the search reads the same cells: one row per child at most, so only the root splits.
      val record = new PairSearch(NativeConfig.PairSplit(2, 1L, 0, 2, Seq(3, 4))).best(1, 0, hist)
      assert(record.split.totals.toSeq == Seq(q(9.25), q(2.5), 3L) && record.split.best.isDefined)
      assert(record.leftChild.isEmpty || record.rightChild.isEmpty)
    } finally kernel.close()
  }

  test("an unknown format is refused by name") {
    val e = intercept[IllegalArgumentException](roundTrip("histogram_v9", Array.emptyByteArray))
    assert(e.getMessage.contains("histogram_v9") && e.getMessage.contains("node_table"), e.getMessage)
  }

  private def bytes(xs: Array[Long]): Array[Byte] = {
    val b = ByteBuffer.allocate(8 * xs.length).order(ByteOrder.LITTLE_ENDIAN)
    xs.foreach(b.putLong)
    b.array()
  }

  private def longs(bs: Array[Byte]): Array[Long] = {
    val b = ByteBuffer.wrap(bs).order(ByteOrder.LITTLE_ENDIAN)
    Array.fill(bs.length / 8)(b.getLong)
  }

  private def readDoubles(ipc: Array[Byte]): Map[String, Seq[Option[Double]]] = {
    val reader = new ArrowStreamReader(new ByteArrayReadableSeekableByteChannel(ipc), ArrowAllocator.child("test"))
    try {
      val root = reader.getVectorSchemaRoot
      assert(reader.loadNextBatch())
      root.getFieldVectors.asScala.map { v =>
        val f = v.asInstanceOf[Float8Vector]
        v.getName -> (0 until root.getRowCount).map(i => if (f.isNull(i)) None else Some(f.get(i)))
      }.toMap
    } finally reader.close()
  }

  private def stream(schema: Schema)(fill: VectorSchemaRoot => Seq[() => Int]): Array[Byte] = {
    val root = VectorSchemaRoot.create(schema, ArrowAllocator.child("test"))
    try {
      val out = new ByteArrayOutputStream()
      val w = new ArrowStreamWriter(root, null, Channels.newChannel(out))
      w.start()
      fill(root).foreach { batch => root.setRowCount(batch()); w.writeBatch() }
      w.end()
      w.close()
      out.toByteArray
    } finally root.close()
  }

  private def notNull(name: String, t: ArrowType, children: java.util.List[Field] = null) = new Field(name, FieldType.notNullable(t), children)
  private val i32 = new ArrowType.Int(32, true)

  private def writeLeafTable(ids: Array[Int], values: Array[Double], k: Int): Array[Byte] = {
    val item = notNull("item", new ArrowType.FloatingPoint(FloatingPointPrecision.DOUBLE))
    stream(new Schema(Seq(notNull("leaf", i32), notNull("scores", new ArrowType.FixedSizeList(k), Seq(item).asJava)).asJava)) { root =>
      Seq(() => {
        val leaf = root.getVector("leaf").asInstanceOf[IntVector]
        val list = root.getVector("scores").asInstanceOf[FixedSizeListVector]
        list.allocateNew()
        val data = list.getDataVector.asInstanceOf[Float8Vector]
        ids.indices.foreach { i => leaf.setSafe(i, ids(i)); list.setNotNull(i) }
        values.indices.foreach(j => data.setSafe(j, values(j)))
        data.setValueCount(values.length)
        ids.length
      })
    }
  }
}

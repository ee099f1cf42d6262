package org.sparkpolicy.bridge

import org.sparkpolicy.{NativeException, SparkTestSession}
import org.apache.spark.sql.functions.col
import org.scalatest.funsuite.AnyFunSuite
import org.sparkpolicy.synthetic.PlantedPolicyData
import org.sparkpolicy.ml.PolicyTreeLearner
import org.sparkpolicy.ml.model.{NodeTable, TreeNode}

/** The JNI boundary through the real library: bad input and panics become Java exceptions, and the JVM carries on. */
class NativeBoundarySuite extends AnyFunSuite with SparkTestSession {
  NativeLib.load()

  private def leaf(id: Int, arm: Int) = TreeNode(id, isLeaf = true, -1, 0.0, -1, missingLeft = false, arm, 1L, Vector(1.0 * arm, 2.0))
  private val stump = NodeTable(2, Vector(TreeNode(1, isLeaf = false, 0, 0.5, 0, missingLeft = true, -1, 2L, Vector(0.0, 0.0)), leaf(2, 0), leaf(3, 1)))

  private def batch(xs: Double*): Array[Byte] = {
    val w = new DoubleBatchWriter(Seq("x0"), 8)
    try {
      xs.foreach { x => if (x.isNaN) w.setNull(0) else w.set(0, x); w.endRow() }
      w.drainToIpc()
    } finally w.close()
  }

  private def withScorer[T](table: NodeTable, nFeatures: Int)(f: Long => T): T = {
    val model = NativeLib.modelCompile(NodeTableIpc.encode(table), NativeConfig.toJson(NativeConfig.Scorer(nFeatures, table.nArms)))
    val scorer = NativeLib.scorerOpen(model)
    try f(scorer) finally { NativeLib.close(scorer); NativeLib.close(model) }
  }

  private final case class Scored(action: Array[Int], leaf: Array[Int])

  private def score(scorer: Long, xs: Double*): Scored = {
    val ipc = batch(xs: _*)
    val out = Scored(new Array[Int](xs.size), new Array[Int](xs.size))
    assert(NativeLib.scoreInto(scorer, ipc, ipc.length, 0, out.action, out.leaf, null, null) == xs.size)
    out
  }

  private def scoreBytes(scorer: Long, ipc: Array[Byte], length: Int): Int =
    NativeLib.scoreInto(scorer, ipc, length, 0, new Array[Int](8), new Array[Int](8), null, null)

  test("ABI handshake and every declared native are callable") {
    assert(NativeLib.abiVersion() == NativeLib.ABI_VERSION)
    assert(NativeLib.selfTest(7) == 7)
    assert(NativeLib.rewardShift(2000, 7.9) == 61 - 3 - 11)
    withScorer(stump, 1) { s =>
      val out = score(s, 0.2, 0.9, Double.NaN)
      assert(out.action.toSeq == Seq(0, 1, 0) && out.leaf.toSeq == Seq(2, 3, 2))
      val allocator = ArrowAllocator.child("test")
      val leaves = try LeafScores.fromIpc(NativeLib.scorerLeafTable(s), 2, allocator) finally allocator.close()
      assert(leaves.size == 4 && !leaves.has(1) && leaves.scores(2).toSeq == Seq(0.0, 2.0) && leaves.scores(3).toSeq == Seq(1.0, 2.0))
    }
  }

  test("a malformed Arrow buffer raises IllegalArgumentException, and the next call works") {
    withScorer(stump, 1) { s =>
      val e = intercept[IllegalArgumentException](scoreBytes(s, Array[Byte](1, 2, 3, 4, 5), 5))
      assert(e.getMessage.contains("invalid Arrow IPC stream (5 bytes)"), e.getMessage)
      val good = batch(0.1)
      val cut = intercept[IllegalArgumentException](scoreBytes(s, good, good.length - 9))
      assert(cut.getMessage.contains("invalid Arrow IPC"), cut.getMessage)
      val beyond = intercept[IllegalArgumentException](scoreBytes(s, good, good.length + 1))
      assert(beyond.getMessage.contains(s"byte length ${good.length + 1} is outside the ${good.length}-byte array"), beyond.getMessage)
      assert(score(s, 0.1).action.toSeq == Seq(0))
    }
    val b = intercept[IllegalArgumentException](NativeLib.kernelAddBlock(0L, Array[Byte](9)))
    assert(b.getMessage.contains("native handle 0 is closed or was never opened"), b.getMessage)
  }

  test("score replies go into the JVM's arrays from the given row; short, null or misplaced arrays are named") {
    withScorer(stump, 1) { s =>
      val (action, leaf) = (Array.fill(5)(-7), Array.fill(5)(-7))
      val first = batch(0.2, 0.9)
      assert(NativeLib.scoreInto(s, first, first.length, 2, action, leaf, null, null) == 2)
      assert(action.toSeq == Seq(-7, -7, 0, 1, -7) && leaf.toSeq == Seq(-7, -7, 2, 3, -7), "rows 2 and 3 only")
      val three = batch(0.2, 0.9, 0.1)
      val short = intercept[IllegalArgumentException](NativeLib.scoreInto(s, three, three.length, 3, action, leaf, null, null))
      assert(short.getMessage.contains("3 action values from element 3 overrun the 5-element array"), short.getMessage)
      val noLeaf = intercept[IllegalArgumentException](NativeLib.scoreInto(s, three, three.length, 0, action, null, null, null))
      assert(noLeaf.getMessage.contains("the leaf array is null, and 3 values are to be written to it"), noLeaf.getMessage)
      val negative = intercept[IllegalArgumentException](NativeLib.scoreInto(s, three, three.length, -1, action, leaf, null, null))
      assert(negative.getMessage.contains("first row -1 is negative"), negative.getMessage)
      // A tree's reply has no scores or leaves: arrays passed for them are left as they are.
      val untouched = Array(5.0, 6.0)
      assert(NativeLib.scoreInto(s, first, first.length, 0, action, leaf, untouched, Array(9)) == 2 && untouched.toSeq == Seq(5.0, 6.0))
    }
  }

  test("an out-of-range feature index raises IllegalArgumentException naming it") {
    val far = stump.copy(nodes = stump.nodes.map(n => if (n.isLeaf) n else n.copy(feature = 9)))
    val e = intercept[IllegalArgumentException](NativeLib.modelCompile(NodeTableIpc.encode(far), NativeConfig.toJson(NativeConfig.Scorer(3, 2))))
    assert(e.getMessage.contains("feature index 9") && e.getMessage.contains("only 3 feature columns"), e.getMessage)
    withScorer(stump, 1)(s => assert(score(s, 0.7).action.toSeq == Seq(1)))
  }

  test("the JVM's node-table structure checks (run when a saved model loads) find what the native scorer refuses") {
    val split = stump.nodes.head
    val broken = Seq(
      "missing child" -> stump.copy(nodes = stump.nodes.filterNot(_.id == 3)),
      "orphan" -> stump.copy(nodes = Vector(leaf(1, 0), leaf(2, 1))),
      "no root" -> stump.copy(nodes = stump.nodes.tail),
      "duplicate id" -> stump.copy(nodes = stump.nodes :+ leaf(3, 0)),
      "arm out of range" -> stump.copy(nodes = stump.nodes.map(n => if (n.id == 2) n.copy(arm = 2) else n)),
      "negative feature" -> stump.copy(nodes = split.copy(feature = -1) +: stump.nodes.tail),
      "NaN threshold" -> stump.copy(nodes = split.copy(threshold = Double.NaN) +: stump.nodes.tail),
      "one arm" -> NodeTable(1, Vector(leaf(1, 0).copy(values = Vector(1.0)))))
    assert(stump.structureProblem(1).isEmpty)
    broken.foreach { case (what, table) =>
      val jvm = table.structureProblem(1).getOrElse(fail(s"$what: the JVM checks pass"))
      val native = intercept[IllegalArgumentException](
        NativeLib.modelCompile(NodeTableIpc.encode(table), NativeConfig.toJson(NativeConfig.Scorer(1, table.nArms))))
      assert(native.getMessage.contains(jvm), s"$what: native '${native.getMessage}', JVM '$jvm'")
    }
  }

  test("a scoring batch with too few columns is refused") {
    val twoFeatures = stump.copy(nodes = stump.nodes.map(n => if (n.isLeaf) n else n.copy(feature = 1)))
    withScorer(twoFeatures, 2) { s =>
      val e = intercept[IllegalArgumentException](score(s, 0.1))
      assert(e.getMessage.contains("scoring batch has 1 columns; the model needs 2 features"), e.getMessage)
    }
  }

  test("a native panic becomes NativeException and the JVM carries on") {
    val p = intercept[NativeException](NativeLib.selfTest(1))
    assert(p.getMessage.contains("native panic: self-test panic requested"))
    val i = intercept[NativeException](NativeLib.selfTest(2))
    assert(i.getMessage.contains("internal error: self-test internal error"))
    assert(intercept[IllegalArgumentException](NativeLib.selfTest(3)).getMessage.contains("self-test invalid input"))
    assert(NativeLib.selfTest(5) == 5)
  }

  test("close is idempotent and a closed handle is an error, not a crash") {
    val model = NativeLib.modelCompile(NodeTableIpc.encode(stump), NativeConfig.toJson(NativeConfig.Scorer(1, 2)))
    NativeLib.close(model)
    NativeLib.close(model)
    val e = intercept[IllegalArgumentException](NativeLib.scorerOpen(model))
    assert(e.getMessage.contains(s"native handle $model is closed"))
    intercept[IllegalArgumentException](NativeLib.blockBuilderFinish(model))
  }

  test("a block that disagrees with the boundaries is refused") {
    val e = intercept[IllegalArgumentException](NativeLib.blockBuilderOpen(NativeConfig.toJson(NativeConfig.Block(2, Seq(2), 0)), Array(1.0, 0.5)))
    assert(e.getMessage.contains("boundaries of feature 0 must be strictly increasing"), e.getMessage)
    val n = intercept[IllegalArgumentException](NativeLib.blockBuilderOpen(NativeConfig.toJson(NativeConfig.Block(2, Seq(1), 0)), Array(1.0, 2.0)))
    assert(n.getMessage.contains("lists 1 boundary values but 2 were passed"), n.getMessage)
  }

  test("block leaves: the stump's leaf of every row of a block, from its bin codes; bad inputs are refused") {
    // x0 with edges [0.5] (codes 0, 1, missing 2): the stump's split is code <= 0, missing left.
    val w = new DoubleBatchWriter(Seq("__sp_f0", "__sp_g0", "__sp_g1"), 8)
    Seq(0.2, 0.5, 0.9, Double.NaN).foreach { x => if (x.isNaN) w.setNull(0) else w.set(0, x); w.set(1, 0.0); w.set(2, 1.0); w.endRow() }
    val builder = BlockBuilder.open(NativeConfig.Block(2, Seq(1), 0), Array(0.5))
    builder.push(w.drainToIpc())
    w.close()
    val block = builder.finish()
    val leaves = new BlockLeaves(NodeTableIpc.encode(stump), Seq(3))
    assert(leaves.of(block).toSeq == Seq(2, 2, 3, 2))
    withScorer(stump, 1)(s => assert(score(s, 0.2, 0.5, 0.9, Double.NaN).leaf.toSeq == leaves.of(block).toSeq))
    val wrong = intercept[IllegalArgumentException](new BlockLeaves(NodeTableIpc.encode(stump), Seq(3, 3)).of(block))
    assert(wrong.getMessage.contains("1 features but 2"), wrong.getMessage)
    intercept[IllegalArgumentException](leaves.of(Array[Byte](1, 2, 3)))
  }

  test("transform builds the compiled model at most once per JVM and closes every task handle") {
    // A row count no other suite uses: the cache is per JVM, so another suite's identical tree would already be in it.
    val data = PlantedPolicyData.generate(spark, 20011, numFeatures = 4, numPartitions = 4)
    val before = ScorerCache.buildCount
    // The fit signs its training output from its blocks, so it compiles no scorer: the first transform does.
    val model = new PolicyTreeLearner().setFeatureCols(PlantedPolicyData.featureNames(4))
      .setRewardCols(Array("g0", "g1", "g2")).setMaxDepth(2).setMaxBins(50).fit(data)
    assert(ScorerCache.buildCount == before, "the fit scored rows")
    val handlesBefore = NativeLib.liveHandles()
    val counts = (1 to 3).map(_ => model.transform(data.repartition(6)).where(col("policy_leaf") > 0).count())
    assert(counts.forall(_ == 20011))
    assert(ScorerCache.buildCount - before == 1, "compiled once for three transforms over 18 tasks")
    assert(NativeLib.liveHandles() == handlesBefore + 1, "every task scorer was closed; only the cached model stays open")
  }

  test("the scorer cache keeps the same tree compiled for different feature counts apart") {
    val payload4 = ScoringPayload(NodeTableIpc.encode(stump), stump.contentHash, nFeatures = 4, nArms = 2)
    val payload1 = payload4.copy(nFeatures = 1)
    val (s4, close4) = ScorerCache.openTaskScorer(payload4)
    val (s1, close1) = ScorerCache.openTaskScorer(payload1)
    try {
      assert(score(s1, 0.9).action.toSeq == Seq(1)) // a 1-column batch fits the 1-feature scorer only
      intercept[IllegalArgumentException](score(s4, 0.9))
    } finally { close4(); close1() }
  }

  test("the block cache budget comes from the executor's conf; a bad value is an error naming the conf") {
    val conf = org.apache.spark.SparkEnv.get.conf
    def configured(value: String): Unit = { conf.set(BlockCache.Conf, value); BlockCache.configure() }
    try {
      Seq("lots", "-1", "1.5").foreach { bad =>
        val e = intercept[IllegalArgumentException](configured(bad))
        assert(e.getMessage.contains(BlockCache.Conf) && e.getMessage.contains(s"'$bad'"), e.getMessage)
      }
      configured("0") // a whole number, 0 included, is accepted
    } finally {
      conf.remove(BlockCache.Conf)
      BlockCache.configure()
    }
  }
}

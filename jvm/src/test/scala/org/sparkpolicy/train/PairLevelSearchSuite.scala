package org.sparkpolicy.train

import org.apache.spark.sql.catalyst.InternalRow
import org.apache.spark.sql.catalyst.expressions.GenericInternalRow
import org.scalatest.funsuite.AnyFunSuite
import org.sparkpolicy.SparkTestSession
import org.sparkpolicy.bridge.{Candidate, FixedPoint, PairRecord}

/**
 * The two-level search's level job (`PairLevelSearch`) on blocks built in this JVM: the same records in
 * process and on Spark under any partitioning, the XOR policy greedy search cannot see, and the memory
 * plan's error.
 */
class PairLevelSearchSuite extends AnyFunSuite with SparkTestSession {
  /** Rows as (features with NaN = missing, Γ per arm). */
  private type Rows = IndexedSeq[(Array[Double], Array[Double])]

  private def edgesOf(rows: Rows, f: Int, maxBins: Int): Array[Double] = {
    val counts = rows.map(_._1(f)).filterNot(_.isNaN).groupBy(identity).map { case (v, vs) => v -> vs.size.toLong }.toArray.sortBy(_._1)
    Boundaries.edgesFromCounts(counts, maxBins)
  }

  import PairLevelSearchSuite.internalRow

  private def blocksLocal(rows: Rows, edges: Array[Array[Double]], shift: Int): Array[Array[Byte]] = {
    val (f, k) = (rows.head._1.length, rows.head._2.length)
    BinnedBlocks.encode(rows.iterator.map { case (x, g) => internalRow(x, g) }, f, k, edges, shift, None).toArray
  }

  private def blocksRdd(rows: Rows, edges: Array[Array[Double]], shift: Int, partitions: Int) = {
    val (f, k) = (rows.head._1.length, rows.head._2.length)
    spark.sparkContext.parallelize(rows, partitions).mapPartitions { it =>
      BinnedBlocks.encode(it.map { case (x, g) => internalRow(x, g) }, f, k, edges, shift, None)
    }
  }

  private def shiftOf(rows: Rows): Int = FixedPoint.rewardShift(rows.size, rows.flatMap(_._2).map(math.abs).max)

  /** A record as comparable values (arrays by content), keyed like `TreeGrower` reads them. */
  private def canonical(records: Array[PairRecord]) =
    records.map { p =>
      val r = p.split
      (r.nodeId, r.featureBlock, r.best, r.runnerUp, r.totals.toSeq, r.left.toSeq, r.right.toSeq, r.refine, p.leftChild, p.rightChild)
    }.sortBy(r => (r._1, r._2)).toSeq

  test("in process and on Spark with 2 and 5 partitions: the same records, bit for bit") {
    val rnd = new scala.util.Random(7)
    // x0 numeric with missing values, x1 numeric, x2 categorical codes 0..3 (its edges are its codes); 3 arms.
    val rows: Rows = (0 until 600).map { _ =>
      val x = Array(if (rnd.nextInt(10) == 0) Double.NaN else rnd.nextDouble(), rnd.nextInt(40) / 40.0, rnd.nextInt(4).toDouble)
      val g = Array(rnd.nextGaussian(), 0.3 * rnd.nextGaussian() + (if (x(0) > 0.6 && x(2) == 1.0) 1.0 else 0.0),
        rnd.nextGaussian() + (if (x(1) < 0.3) 0.5 else 0.0))
      (x, g)
    }
    val edges = Array(edgesOf(rows, 0, 32), edgesOf(rows, 1, 32), Array(0.0, 1.0, 2.0, 3.0))
    val shift = shiftOf(rows)
    val codes = edges.map(_.length + 2)
    val categorical = Array(false, false, true)
    val blocks = blocksLocal(rows, edges, shift)
    // A greedy root level first, as TreeTrainer's loop would run it, so the pair level has two frontier nodes.
    val grower = new TreeGrower(SplitCriterion.Policy(3, shift), 4, 5, edges, categorical)
    val root = ChosenSplit.routingTable(Map.empty, 3)
    val frontier = grower.applyLevel(Array(1),
      LevelSearch.runLocal(blocks, LevelJob(root, Array(1), LevelPlan(1, codes, 3, 256), GridCodes(codes, codes.map(_ => None)), 3, 5, 1, 0, categorical = categorical)))
    assert(frontier.toSeq == Seq(2, 3))
    // Coarse grid on x0 (every third fine edge); x1 and x2 on their fine codes; one root feature per key.
    val cuts = Array(Some(edges(0).indices.filter(_ % 3 == 1).toArray), None, None)
    val job = PairLevelJob.plan(grower.trainingTable(), frontier, codes, cuts, 3, 5, 2, 1, categorical, 256, minKeys = 6)
    assert(job.plan.rootBlocks.size == 3 && job.histCodes(0) < codes(0))
    val local = PairLevelSearch.recordsLocal(blocks, job)
    assert(local.length == 6 && local.forall(_.split.best.isDefined))
    Seq(2, 5).foreach { p =>
      val peak = new MaxAccumulator
      spark.sparkContext.register(peak)
      val distributed = PairLevelSearch.records(blocksRdd(rows, edges, shift, p), job, peak)
      assert(canonical(distributed) == canonical(local), s"$p partitions")
      assert(peak.value > 0)
    }
    assert(PairLevelSearch.runLocal(blocks, job).map(_.best).toSeq == local.map(_.split.best).toSeq)
    // The greedy reducer consumes the records as they are, and logs each subtree's gain over its node.
    grower.applyLevel(frontier, PairLevelSearch.runLocal(blocks, job))
    val logged = grower.decisions.filter(_.depth == 1)
    assert(logged.map(_.node) == Seq(2, 3) && logged.forall(d => d.split == (d.gain > 0)) && logged.exists(_.split), logged)
  }

  test("XOR: greedy's root split gains nothing, the pair search's root is x0 at 0.5 with the full depth-2 reward") {
    // x0, x1, x2 on 1/8 .. 8/8, every combination once: arm 1 pays 1 iff (x0 > 0.5) xor (x1 > 0.5), arm 0 otherwise.
    val grid = (1 to 8).map(_ / 8.0)
    val rows: Rows = for (a <- grid; b <- grid; c <- grid) yield {
      val arm1 = (a > 0.5) != (b > 0.5)
      (Array(a, b, c), if (arm1) Array(0.0, 1.0) else Array(1.0, 0.0))
    }
    val edges = Array.tabulate(3)(edgesOf(rows, _, 64))
    assert(edges(0)(3) == 0.5)
    val shift = shiftOf(rows)
    val one = BigInt(1) << shift
    val blocks = blocksLocal(rows, edges, shift)
    val codes = edges.map(_.length + 2)
    val root = ChosenSplit.routingTable(Map.empty, 2)
    val greedy = LevelSearch.runLocal(blocks, LevelJob(root, Array(1), LevelPlan(1, codes, 2, 256), GridCodes(codes, codes.map(_ => None)), 2, 1, 1, 0)).head
    assert(greedy.best.get.reward == 256 * one, "every single split ties the unsplit root")
    assert(SplitCriterion.Policy(2, shift).unsplit(greedy.totals).gain(greedy.best.get) == 0.0)
    val job = PairLevelJob.plan(root, Array(1), codes, Array.empty, 2, 1, 2, 0, Array.empty, 256, minKeys = 1)
    val pair = PairLevelSearch.recordsLocal(blocks, job).head
    assert(pair.split.best.contains(Candidate(0, 3, missingLeft = true, 512 * one)))
    assert(pair.split.runnerUp.contains(Candidate(1, 3, missingLeft = true, 512 * one)))
    assert(pair.leftChild.contains(Candidate(1, 3, missingLeft = true, 256 * one)))
    assert(pair.rightChild.contains(Candidate(1, 3, missingLeft = true, 256 * one)))
    // Pair root, then a greedy level: the planted policy, every row on its paying arm.
    val grower = new TreeGrower(SplitCriterion.Policy(2, shift), 2, 1, edges)
    val next = grower.applyLevel(Array(1), Array(pair.split))
    assert(next.toSeq == Seq(2, 3))
    val level1 = LevelSearch.runLocal(blocks, LevelJob(grower.trainingTable(), next, LevelPlan(2, codes, 2, 256), GridCodes(codes, codes.map(_ => None)), 2, 1, 1, 1))
    grower.applyLevel(next, level1)
    val tree = grower.result()
    assert(tree.leaves.map(l => l.id -> l.arm).toMap == Map(4 -> 0, 5 -> 1, 6 -> 1, 7 -> 0), tree)
    assert(rows.forall { case (x, g) => g(tree.leafOf(x).arm) == 1.0 })
  }

  test("a (node, root feature) larger than maxMemoryMB is an error naming searchDepth, maxMemoryMB and the MB it needs") {
    val codes = Array.fill(5)(257)
    val mb = (257L * 257 * 5 * 4 * 8 + (1 << 20) - 1) >> 20
    val e = intercept[IllegalArgumentException](PairPlan(4, codes, 3, maxMemoryMB = 1))
    assert(e.getMessage.contains("searchDepth = 2") && e.getMessage.contains("maxMemoryMB = 1") && e.getMessage.contains(s"$mb MB"),
      e.getMessage)
    // Within the budget every chunk fits, and every (slot, root) is in exactly one chunk.
    val plan = PairPlan(4, codes, 3, maxMemoryMB = 30)
    val budget = 30L * 1024 * 1024 / 8
    plan.chunks.foreach { c =>
      val cells = (c.slotEnd - c.slotStart) * (c.featureStart until c.featureEnd).map(PairPlan.cellsPerRoot(codes, 3, _)).sum
      assert(cells <= budget, s"$c uses $cells cells")
    }
    assert(plan.chunks.map(c => (c.slotEnd - c.slotStart) * (c.featureEnd - c.featureStart)).sum == 4 * 5)
  }
}

object PairLevelSearchSuite {
  /** Features (NaN as null) then Γ, as `BinnedBlocks.encode` reads a row; here so Spark closures do not capture the suite. */
  def internalRow(x: Array[Double], g: Array[Double]): InternalRow =
    new GenericInternalRow((x.map(v => if (v.isNaN) null else v: Any) ++ g.map(v => v: Any)).toArray[Any])
}

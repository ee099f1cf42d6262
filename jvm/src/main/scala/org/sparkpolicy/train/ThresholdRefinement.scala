package org.sparkpolicy.train

import org.apache.spark.HashPartitioner
import org.apache.spark.rdd.RDD
import org.sparkpolicy.bridge.{Candidate, NativeConfig, NodeTableIpc, RefineBin, RefineKernel, SplitRecord}
import org.sparkpolicy.ml.model.RefinementStats

/**
 * The second, bounded pass of a level on a coarse grid, which makes each split the exhaustive search's
 * over every fine threshold. The level's split search bounds, per coarse bin, what any fine threshold
 * inside it can reach (`split::bin_bound`); the bins whose bound reaches the node's best coarse reward
 * (`NodeChoice.refine`) are the only places a better or tying fine threshold can be. Per (node, feature)
 * with such bins — a group — one `mapPartitions` builds a histogram on a mixed grid (those bins on their
 * fine codes, every other coarse bin as one code; `native/core/src/refine.rs`), `reduceByKey` merges the
 * exact integer partials, and the executors scan it in the coarse search's loop order; one record per
 * group reaches the driver. A group's best replaces its feature's coarse candidate (its scan holds every
 * coarse edge too), and the node's split is the first best over features in contract order.
 * A forest refines every tree's frontier in the same pass (`runAll`): partials are keyed (tree, node,
 * feature), and each tree's kernel counts only the rows of its `RowSample`.
 */
private[sparkpolicy] object ThresholdRefinement {
  private val log = org.slf4j.LoggerFactory.getLogger(getClass)

  /**
   * Whether `refineBins` needs the level histograms' bound cells: only bins past the coarse winner's own two
   * are chosen by bound, so `refineBins = 2` (the winner's bins alone, the rule before bounds) needs none.
   */
  def needsBounds(refineBins: Int): Boolean = refineBins != 2

  /**
   * A node's bins to refine (`refineBins`, docs/contract.md): the coarse winner's bins (those on either side
   * of its threshold, when they have inner thresholds), then the rest by bound descending, ties by (feature,
   * bin), `limit` in all (0: every bin); (feature, bin) ascending. Where more bins reach the coarse best than
   * `limit` (nearly flat rewards: deep, noisy nodes), the split is the best over the bins refined, and still
   * the exhaustive search's when no bin left out has a bound reaching the refined reward (logged as certified).
   */
  def binsToRefine(c: NodeChoice, grid: SearchGrid, limit: Int): Vector[RefineBin] = {
    val own: Seq[RefineBin] = c.winner.toSeq.flatMap { case (w, _) =>
      grid.cuts(w.feature).toSeq.flatMap { cuts =>
        val j = java.util.Arrays.binarySearch(cuts, w.thresholdBin)
        if (j < 0) Nil
        else {
          val inner = (b: Int) => { val (lo, hi) = RefineKernel.binCodes(grid.fineCodes(w.feature), cuts, b); hi > lo }
          // Listed with its bound when the level had bounds; without them (refineBins 2) its bound is unknown.
          Seq(j, j + 1).filter(inner).map(b => c.refine.find(x => x.feature == w.feature && x.bin == b).getOrElse(RefineBin(w.feature, b, w.reward)))
        }
      }
    }
    val rest = c.refine.distinct.filterNot(b => own.exists(o => o.feature == b.feature && o.bin == b.bin))
    val all: Vector[RefineBin] = own.toVector ++ rest.sortBy(b => (-b.bound, b.feature, b.bin))
    (if (limit == 0) all else all.take(math.max(limit, own.size))).sortBy(b => (b.feature, b.bin))
  }

  /** One (node, feature) to refine: the node's frontier slot and the search of its merged histogram. */
  private final case class Group(node: Int, slot: Int, search: NativeConfig.RefineSplit) {
    def feature: Int = search.feature
  }

  /** One tree's groups, by (node, feature), and the native config that builds their histograms. */
  private final case class TreeGroups(treeId: Int, frontier: Array[Int], byKey: Map[(Int, Int), Group], config: NativeConfig.Refine)

  def run(blocks: RDD[Array[Byte]], tree: org.sparkpolicy.ml.model.NodeTable, frontier: Array[Int], choices: Vector[NodeChoice],
      grid: SearchGrid, nArms: Int, minNodeSize: Int, maxMemoryMB: Int, depth: Int, refineBins: Int): (Vector[NodeChoice], RefinementStats) = {
    val (choicesOut, stats) =
      runAll(blocks, Vector(RefineJob(0, tree, frontier, choices)), grid, nArms, minNodeSize, maxMemoryMB, depth, "PolicyTreeLearner", refineBins)
    (choicesOut.head, stats)
  }

  /**
   * Every job's level refined in one pass over the blocks; returns each job's choices, in job order, with
   * the refined winners. Each tree's groups are emitted in chunks within `maxMemoryMB`, one tree's kernel
   * after another, so a task holds one tree's routing and one chunk at a time.
   */
  def runAll(blocks: RDD[Array[Byte]], jobs: Vector[RefineJob], grid: SearchGrid, nArms: Int, minNodeSize: Int, maxMemoryMB: Int,
      depth: Int, stage: String, refineBins: Int): (Vector[Vector[NodeChoice]], RefinementStats) = {
    require(jobs.map(_.treeId).distinct.size == jobs.size, s"trees ${jobs.map(_.treeId).mkString(",")} of one pass need distinct ids")
    val trees = jobs.flatMap(j => groupsOf(j, grid, nArms, minNodeSize, maxMemoryMB, depth, refineBins))
    if (trees.isEmpty) return (jobs.map(_.choices.map(_.copy(refine = Vector.empty, leftOut = None))), RefinementStats.Empty)
    val nGroups = trees.map(_.byKey.size).sum
    val nBins = trees.flatMap(_.byKey.values.map(_.search.bins.size)).sum
    val nCandidates = jobs.flatMap(_.choices.map(_.refine.distinct.size)).sum
    val nNodes = trees.map(_.byKey.keySet.map(_._1).size).sum
    val sc = blocks.sparkContext
    val what = s"$nBins coarse bins (of $nCandidates whose bound reaches the coarse best) of $nGroups features in $nNodes nodes" +
      (if (jobs.size > 1) s" of ${trees.size} trees" else "")
    sc.setJobDescription(s"$stage: level $depth threshold refinement ($what)")
    log.info(s"level $depth refinement: $what")
    val payloads = trees.map(t => sc.broadcast(NodeTableIpc.encode(jobs.find(_.treeId == t.treeId).get.tree)))
    val shared = sc.broadcast(trees)
    val indexOf: Map[Int, Int] = trees.map(_.treeId).zipWithIndex.toMap
    val refined = try {
      blocks.mapPartitions { it =>
        val local = it.toArray // references to the cached blocks, not copies
        val all = shared.value
        all.indices.iterator.flatMap { i =>
          partials(local, payloads(i).value, all(i).config, all(i).frontier).map { case (key, h) => (all(i).treeId, key._1, key._2) -> h }
        }
      }
        .reduceByKey(new HashPartitioner(math.max(1, math.min(nGroups, sc.defaultParallelism))), addInto _)
        .map { case ((t, node, feature), hist) =>
          val g = shared.value(indexOf(t)).byKey((node, feature))
          (t, node, feature) -> RefineKernel.refineSplit(node, g.search, hist)
        }
        .collectAsMap()
    } finally (payloads :+ shared).foreach(_.destroy())
    var certified = 0
    var refinedNodes = 0
    val out = jobs.map { job =>
      val groups = trees.find(_.treeId == job.treeId).map(_.byKey).getOrElse(Map.empty)
      job.choices.map { c =>
        val features = groups.keySet.collect { case (n, f) if n == c.node => f }
        val fromGroups = features.toSeq.sorted.flatMap { f =>
          val rec = refined.getOrElse((job.treeId, c.node, f),
            throw new IllegalStateException(s"tree ${job.treeId} node ${c.node}: no refined record for feature $f"))
          rec.best.map(_ -> rec)
        }
        // A group's scan covers every candidate of its feature, the coarse winner's threshold included.
        val coarse = c.winner.filterNot { case (w, _) => features(w.feature) }
        val winner = firstBest((coarse.toSeq ++ fromGroups).sortBy(_._1.feature)).map { case (b, rec) => b -> rec.copy(refine = Vector.empty) }
        if (features.nonEmpty) {
          refinedNodes += 1
          // Without bounds (refineBins = 2) no split is certified: the bins left out were never bounded.
          val searched = binsToRefine(c, grid, refineBins).toSet
          val below = (bound: BigInt) => winner.exists(w => bound < w._1.reward)
          if (needsBounds(refineBins) && c.refine.forall(b => searched(b) || below(b.bound)) && c.leftOut.forall(below)) certified += 1
        }
        // The runner-up is the best split on another feature than the (possibly new) winner's, refined where refined.
        val others = (c.winner.map(_._1).toSeq ++ c.runnerUp ++ fromGroups.map(_._1))
          .filter(x => !winner.exists(_._1.feature == x.feature) && !(features(x.feature) && !fromGroups.exists(_._1 eq x)))
        val runnerUp = others.sortBy(_.feature).foldLeft(Option.empty[Candidate]) {
          case (Some(b), x) if x.reward <= b.reward => Some(b)
          case (_, x) => Some(x)
        }
        c.copy(winner = winner, runnerUp = runnerUp, refine = Vector.empty, leftOut = None)
      }
    }
    log.info(s"level $depth refinement: $certified of $refinedNodes refined splits certified exhaustive " +
      s"(no bin left out has a bound reaching the refined reward)")
    (out, RefinementStats(nCandidates, nBins, refinedNodes, certified))
  }

  private def firstBest(xs: Seq[(Candidate, SplitRecord)]): Option[(Candidate, SplitRecord)] =
    xs.foldLeft(Option.empty[(Candidate, SplitRecord)]) {
      case (Some(b), x) if x._1.reward <= b._1.reward => Some(b)
      case (_, x) => Some(x)
    }

  /** A job's groups (its nodes' bins to refine, by feature) and their config, or None when it has none. */
  private def groupsOf(job: RefineJob, grid: SearchGrid, nArms: Int, minNodeSize: Int, maxMemoryMB: Int,
      depth: Int, refineBins: Int): Option[TreeGroups] = {
    val slotOf = job.frontier.zipWithIndex.toMap
    val groups: Vector[Group] = job.choices.sortBy(c => slotOf(c.node)).flatMap { c =>
      binsToRefine(c, grid, refineBins).groupBy(_.feature).toVector.sortBy(_._1).map { case (f, bins) =>
        val cuts = grid.cuts(f).getOrElse(throw new IllegalStateException(s"node ${c.node}: bins to refine on feature $f, which is not coarse"))
        Group(c.node, slotOf(c.node),
          NativeConfig.RefineSplit(nArms, minNodeSize, f, grid.fineCodes(f), cuts.toSeq, bins.map(_.bin).distinct.sorted))
      }
    }
    if (groups.isEmpty) None
    else {
      val specs = groups.map(g => NativeConfig.RefineGroup(g.slot, g.feature, g.search.bins))
      val tag = if (job.rowSample.isEmpty) s"refine level $depth" else s"refine tree ${job.treeId} level $depth"
      val config = NativeConfig.Refine(nArms, grid.fineCodes.toSeq, grid.codes.cutsOf(0, grid.fineCodes.length), job.frontier.toSeq,
        specs, chunksOf(groups, nArms, maxMemoryMB), tag, rowSample = job.rowSample)
      Some(TreeGroups(job.treeId, job.frontier, groups.map(g => (g.node, g.feature) -> g).toMap, config))
    }
  }

  private def cells(g: Group, nArms: Int): Int = RefineKernel.codes(g.search.fineCodes, g.search.cuts.toArray, g.search.bins) * (nArms + 1)

  /** Consecutive groups gathered so each emitted chunk stays within `maxMemoryMB`. */
  private def chunksOf(groups: Vector[Group], nArms: Int, maxMemoryMB: Int): Vector[NativeConfig.GroupRange] = {
    val budget = math.max(1L, maxMemoryMB.toLong * 1024 * 1024 / 8)
    val out = Vector.newBuilder[NativeConfig.GroupRange]
    var start = 0
    var used = 0L
    groups.indices.foreach { i =>
      val c = cells(groups(i), nArms).toLong
      if (i > start && used + c > budget) { out += NativeConfig.GroupRange(start, i); start = i; used = 0L }
      used += c
    }
    out += NativeConfig.GroupRange(start, groups.size)
    out.result()
  }

  private def addInto(a: Array[Long], b: Array[Long]): Array[Long] = {
    var i = 0
    while (i < a.length) { a(i) += b(i); i += 1 }
    a
  }

  /** One partition's group histograms, keyed by (node, feature), chunk by chunk; groups without rows here are left out. */
  private def partials(local: Array[Array[Byte]], treeIpc: Array[Byte], config: NativeConfig.Refine,
      frontier: Array[Int]): Iterator[((Int, Int), Array[Long])] =
    if (local.isEmpty) Iterator.empty
    else {
      FaultInjection.maybeFail("refinement")
      val kernel = RefineKernel.open(treeIpc, config)
      try local.foreach(kernel.addBlock)
      catch { case e: Throwable => kernel.close(); throw e }
      val stride = config.nArms + 1
      val cutsOf = config.coarseCuts.map(_.map(_.toArray))
      config.chunks.indices.iterator.flatMap { ci =>
        val hist = try kernel.emit(ci) catch { case e: Throwable => kernel.close(); throw e }
        if (ci == config.chunks.size - 1) kernel.close()
        val range = config.chunks(ci)
        var offset = 0
        config.groups.slice(range.start, range.end).iterator.flatMap { g =>
          val len = RefineKernel.codes(config.codesPerFeature(g.feature), cutsOf(g.feature).get, g.bins) * stride
          val part = java.util.Arrays.copyOfRange(hist, offset, offset + len)
          offset += len
          var rows = 0L
          var i = config.nArms
          while (i < len) { rows += part(i); i += stride }
          if (rows == 0) Iterator.empty else Iterator.single((frontier(g.slot), g.feature) -> part)
        }
      }
    }
}

package org.sparkpolicy.train

import org.apache.spark.HashPartitioner
import org.apache.spark.rdd.RDD
import org.sparkpolicy.bridge.{NativeConfig, NodeTableIpc, RefineKernel, RefineWindow}

/**
 * The second, bounded pass of a level on a coarse grid: each frontier node whose winner is a coarse
 * threshold of a coarse feature gets the fine thresholds strictly between the coarse edges around it
 * searched exactly (`native/core/src/refine.rs`). One `mapPartitions` builds each node's window
 * histogram (only that feature, only those codes), `reduceByKey` merges the exact integer partials, and
 * the executors pick the window's first best fine threshold; one record per node reaches the driver.
 * The window holds the coarse winner's own threshold, so refinement never lowers a node's reward.
 * A forest refines every tree's frontier in the same pass (`runAll`): partials are keyed (tree, node), and
 * each tree's kernel counts only the rows of its `RowSample`.
 */
private[sparkpolicy] object ThresholdRefinement {
  private final case class NodeWindow(slot: Int, feature: Int, window: RefineWindow, totals: Array[Long])

  /** One tree's windows: by frontier node, and the native config that builds their histograms. */
  private final case class TreeWindows(treeId: Int, frontier: Array[Int], byNode: Map[Int, NodeWindow], config: NativeConfig.Refine)

  def run(blocks: RDD[Array[Byte]], tree: org.sparkpolicy.ml.model.NodeTable, frontier: Array[Int], choices: Vector[NodeChoice],
      grid: SearchGrid, nArms: Int, minNodeSize: Int, maxMemoryMB: Int, depth: Int): Vector[NodeChoice] =
    runAll(blocks, Vector(RefineJob(0, tree, frontier, choices)), grid, nArms, minNodeSize, maxMemoryMB, depth, "PolicyTreeLearner").head

  /**
   * Every job's level refined in one pass over the blocks; returns each job's choices, in job order, with
   * the refined winners. Each tree's windows are emitted in chunks within `maxMemoryMB`, one tree's kernel
   * after another, so a task holds one tree's routing and one chunk at a time.
   */
  def runAll(blocks: RDD[Array[Byte]], jobs: Vector[RefineJob], grid: SearchGrid, nArms: Int, minNodeSize: Int, maxMemoryMB: Int,
      depth: Int, stage: String): Vector[Vector[NodeChoice]] = {
    require(jobs.map(_.treeId).distinct.size == jobs.size, s"trees ${jobs.map(_.treeId).mkString(",")} of one pass need distinct ids")
    val trees = jobs.flatMap(j => windowsOf(j, grid, nArms, maxMemoryMB, depth))
    if (trees.isEmpty) return jobs.map(_.choices)
    val nWindows = trees.map(_.config.windows.size).sum
    val splitConfig = NativeConfig.toJson(NativeConfig.Split(nArms, minNodeSize, 0, Nil))
    val sc = blocks.sparkContext
    sc.setJobDescription(s"$stage: level $depth threshold refinement ($nWindows nodes" +
      (if (jobs.size > 1) s" of ${trees.size} trees)" else ")"))
    val payloads = trees.map(t => sc.broadcast(NodeTableIpc.encode(jobs.find(_.treeId == t.treeId).get.tree)))
    val shared = sc.broadcast(trees)
    val indexOf: Map[Int, Int] = trees.map(_.treeId).zipWithIndex.toMap
    val refined = try {
      blocks.mapPartitions { it =>
        val local = it.toArray // references to the cached blocks, not copies
        val all = shared.value
        all.indices.iterator.flatMap { i =>
          partials(local, payloads(i).value, all(i).config, all(i).frontier).map { case (node, h) => (all(i).treeId, node) -> h }
        }
      }
        .reduceByKey(new HashPartitioner(math.max(1, math.min(nWindows, sc.defaultParallelism))), addInto _)
        .map { case ((t, node), hist) =>
          val w = shared.value(indexOf(t)).byNode(node)
          (t, node) -> RefineKernel.refineSplit(node, w.feature, w.window, w.totals, hist, splitConfig, nArms)
        }
        .collectAsMap()
    } finally (payloads :+ shared).foreach(_.destroy())
    jobs.map { job =>
      trees.find(_.treeId == job.treeId) match {
        case None => job.choices
        case Some(tw) => job.choices.map { c =>
          tw.byNode.get(c.node) match {
            case None => c
            case Some(w) =>
              // A window no row falls in still has thresholds (all splitting the node alike): searched on zeros.
              val rec = refined.getOrElse((job.treeId, c.node),
                RefineKernel.refineSplit(c.node, w.feature, w.window, w.totals, new Array[Long](RefineKernel.cells(windowOf(w), nArms)),
                  splitConfig, nArms))
              val (_, coarse) = c.winner.get
              c.copy(winner = rec.best.map(b => b -> coarse.copy(left = rec.left, right = rec.right, window = None)).orElse(c.winner))
          }
        }
      }
    }
  }

  /** A job's windows (its winners with a refinement window) and their config, or None when it has none. */
  private def windowsOf(job: RefineJob, grid: SearchGrid, nArms: Int, maxMemoryMB: Int, depth: Int): Option[TreeWindows] = {
    val slotOf = job.frontier.zipWithIndex.toMap
    val byNode: Map[Int, NodeWindow] = job.choices.flatMap { c =>
      c.winner.flatMap { case (cand, rec) => rec.window.map(w => c.node -> NodeWindow(slotOf(c.node), cand.feature, w, c.totals)) }
    }.toMap
    if (byNode.isEmpty) None
    else {
      val windows = byNode.values.toVector.sortBy(_.slot).map(windowOf)
      val tag = if (job.rowSample.isEmpty) s"refine level $depth" else s"refine tree ${job.treeId} level $depth"
      Some(TreeWindows(job.treeId, job.frontier, byNode, NativeConfig.Refine(nArms, grid.fineCodes.toSeq, job.frontier.toSeq, windows,
        chunksOf(windows, nArms, maxMemoryMB), tag, rowSample = job.rowSample)))
    }
  }

  private def windowOf(w: NodeWindow) = NativeConfig.Window(w.slot, w.feature, w.window.lo, w.window.hi)

  /** Consecutive windows grouped so each emitted chunk stays within `maxMemoryMB`. */
  private def chunksOf(windows: Vector[NativeConfig.Window], nArms: Int, maxMemoryMB: Int): Vector[NativeConfig.WindowRange] = {
    val budget = math.max(1L, maxMemoryMB.toLong * 1024 * 1024 / 8)
    val out = Vector.newBuilder[NativeConfig.WindowRange]
    var start = 0
    var cells = 0L
    windows.indices.foreach { i =>
      val c = RefineKernel.cells(windows(i), nArms).toLong
      if (i > start && cells + c > budget) { out += NativeConfig.WindowRange(start, i); start = i; cells = 0L }
      cells += c
    }
    out += NativeConfig.WindowRange(start, windows.size)
    out.result()
  }

  private def addInto(a: Array[Long], b: Array[Long]): Array[Long] = {
    var i = 0
    while (i < a.length) { a(i) += b(i); i += 1 }
    a
  }

  /** One partition's window histograms, keyed by node, chunk by chunk; windows without rows here are left out. */
  private def partials(local: Array[Array[Byte]], treeIpc: Array[Byte], config: NativeConfig.Refine,
      frontier: Array[Int]): Iterator[(Int, Array[Long])] =
    if (local.isEmpty) Iterator.empty
    else {
      FaultInjection.maybeFail("refinement")
      val kernel = RefineKernel.open(treeIpc, config)
      try local.foreach(kernel.addBlock)
      catch { case e: Throwable => kernel.close(); throw e }
      val stride = config.nArms + 1
      config.chunks.indices.iterator.flatMap { ci =>
        val hist = try kernel.emit(ci) catch { case e: Throwable => kernel.close(); throw e }
        if (ci == config.chunks.size - 1) kernel.close()
        val range = config.chunks(ci)
        var offset = 0
        config.windows.slice(range.start, range.end).iterator.flatMap { w =>
          val len = RefineKernel.cells(w, config.nArms)
          val part = java.util.Arrays.copyOfRange(hist, offset, offset + len)
          offset += len
          var rows = 0L
          var i = config.nArms
          while (i < len) { rows += part(i); i += stride }
          if (rows == 0) Iterator.empty else Iterator.single(frontier(w.slot) -> part)
        }
      }
    }
}

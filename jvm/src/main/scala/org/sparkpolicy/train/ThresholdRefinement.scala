package org.sparkpolicy.train

import org.apache.spark.HashPartitioner
import org.apache.spark.rdd.RDD
import org.sparkpolicy.bridge.{NativeConfig, NodeTableIpc, RefineKernel, RefineWindow}
import org.sparkpolicy.ml.model.NodeTable

/**
 * The second, bounded pass of a level on a coarse grid: each frontier node whose winner is a coarse
 * threshold of a coarse feature gets the fine thresholds strictly between the coarse edges around it
 * searched exactly (`native/core/src/refine.rs`). One `mapPartitions` builds each node's window
 * histogram (only that feature, only those codes), `reduceByKey` merges the exact integer partials, and
 * the executors pick the window's first best fine threshold; one record per node reaches the driver.
 * The window holds the coarse winner's own threshold, so refinement never lowers a node's reward.
 */
private[sparkpolicy] object ThresholdRefinement {
  private final case class NodeWindow(slot: Int, feature: Int, window: RefineWindow, totals: Array[Long])

  def run(blocks: RDD[Array[Byte]], tree: NodeTable, frontier: Array[Int], choices: Vector[NodeChoice], grid: SearchGrid,
      nArms: Int, minNodeSize: Int, maxMemoryMB: Int, depth: Int): Vector[NodeChoice] = {
    val slotOf = frontier.zipWithIndex.toMap
    val byNode: Map[Int, NodeWindow] = choices.flatMap { c =>
      c.winner.flatMap { case (cand, rec) => rec.window.map(w => c.node -> NodeWindow(slotOf(c.node), cand.feature, w, c.totals)) }
    }.toMap
    if (byNode.isEmpty) return choices
    val windows = byNode.toVector.sortBy(_._2.slot).map { case (_, w) => NativeConfig.Window(w.slot, w.feature, w.window.lo, w.window.hi) }
    val config = NativeConfig.Refine(nArms, grid.fineCodes.toSeq, frontier.toSeq, windows, chunksOf(windows, nArms, maxMemoryMB),
      s"refine level $depth")
    val splitConfig = NativeConfig.toJson(NativeConfig.Split(nArms, minNodeSize, 0, Nil))
    val sc = blocks.sparkContext
    sc.setJobDescription(s"PolicyTreeLearner: level $depth threshold refinement (${windows.size} nodes)")
    val payload = sc.broadcast(NodeTableIpc.encode(tree))
    val refined = try {
      blocks.mapPartitions(it => partials(it.toArray, payload.value, config, frontier))
        .reduceByKey(new HashPartitioner(math.max(1, math.min(windows.size, sc.defaultParallelism))), addInto _)
        .map { case (node, hist) =>
          val w = byNode(node)
          node -> RefineKernel.refineSplit(node, w.feature, w.window, w.totals, hist, splitConfig, nArms)
        }
        .collectAsMap()
    } finally payload.destroy()
    choices.map { c =>
      byNode.get(c.node) match {
        case None => c
        case Some(w) =>
          // A window no row falls in still has thresholds (all splitting the node alike): searched on zeros.
          val rec = refined.getOrElse(c.node,
            RefineKernel.refineSplit(c.node, w.feature, w.window, w.totals, new Array[Long](RefineKernel.cells(windowOf(w), nArms)),
              splitConfig, nArms))
          val (_, coarse) = c.winner.get
          c.copy(winner = rec.best.map(b => b -> coarse.copy(left = rec.left, right = rec.right, window = None)).orElse(c.winner))
      }
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

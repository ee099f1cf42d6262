package org.sparkpolicy.train

import org.apache.spark.HashPartitioner
import org.apache.spark.rdd.RDD
import org.sparkpolicy.bridge.{NodeTableIpc, PairKernel, PairRecord, SplitRecord}
import org.sparkpolicy.ml.model.NodeTable

/**
 * One level of the two-level search (`searchDepth = 2`, GitHub issue #11), collect-less like
 * `LevelSearch`: each partition's native pair kernel builds the frontier's 2-D histograms chunk by
 * chunk; `reduceByKey` merges the exact integer partials per (node, root block) on executors, where the
 * root split of each node's best depth-2 subtree is also chosen (`bridge.PairSearch`). Only the records
 * are collected. A record's best candidate carries the subtree's reward, so `TreeGrower.applyLevel`
 * consumes these records unchanged: it splits a node when its best depth-2 subtree beats the node unsplit,
 * and logs that subtree's gain.
 */
private[sparkpolicy] object PairLevelSearch {

  /** The level from TreeTrainer's loop: the plan within `maxMemoryMB`, then `run`. Thresholds are fine codes. */
  def run(blocks: RDD[Array[Byte]], tree: NodeTable, frontier: Array[Int], codesPerFeature: Array[Int],
      coarseCuts: Array[Option[Array[Int]]], nArms: Int, minNodeSize: Int, nativeThreads: Int, depth: Int,
      categorical: Array[Boolean], maxMemoryMB: Int, peak: MaxAccumulator): Array[SplitRecord] =
    run(blocks, PairLevelJob.plan(tree, frontier, codesPerFeature, coarseCuts, nArms, minNodeSize, nativeThreads, depth,
      categorical, maxMemoryMB, blocks.sparkContext.defaultParallelism), peak)

  def run(blocks: RDD[Array[Byte]], job: PairLevelJob, peak: MaxAccumulator): Array[SplitRecord] =
    records(blocks, job, peak).map(_.split)

  /** The records with each subtree's children (for a log of the whole subtree). */
  def records(blocks: RDD[Array[Byte]], job: PairLevelJob, peak: MaxAccumulator): Array[PairRecord] = {
    val sc = blocks.sparkContext
    val payload = sc.broadcast(NodeTableIpc.encode(job.tree))
    // Broadcast, not captured: the job's plan and searches grow with the features (see `LevelSearch.search`).
    val shared = sc.broadcast(job)
    val partials: RDD[((Int, Int), Array[Long])] = blocks.mapPartitions { it =>
      val job = shared.value
      val local = it.toArray // references to the cached blocks, not copies
      FaultInjection.maybeFail("pair histograms")
      val ctx = org.apache.spark.TaskContext.get()
      val tag = if (ctx == null) s"pair level ${job.depth}" else s"stage ${ctx.stageId()} partition ${ctx.partitionId()} pair level ${job.depth}"
      partitionPartials(local, payload.value, job, tag, peak.add)
    }
    val nKeys = job.frontier.length * job.plan.rootBlocks.size
    val partitioner = new HashPartitioner(math.max(1, math.min(nKeys, sc.defaultParallelism)))
    try {
      partials
        .reduceByKey(partitioner, (a: Array[Long], b: Array[Long]) => addInto(a, b))
        .map { case ((node, rb), hist) => shared.value.searches(rb).best(node, rb, hist) }
        .collect()
    } finally { payload.destroy(); shared.destroy() }
  }

  /** The same level without Spark, over blocks held in this JVM (one kernel over all of them). */
  def runLocal(blocks: Array[Array[Byte]], job: PairLevelJob): Array[SplitRecord] = recordsLocal(blocks, job).map(_.split)

  def recordsLocal(blocks: Array[Array[Byte]], job: PairLevelJob): Array[PairRecord] = {
    val merged = new java.util.TreeMap[(Int, Int), Array[Long]](Ordering[(Int, Int)])
    partitionPartials(blocks, NodeTableIpc.encode(job.tree), job, s"local pair level ${job.depth}", _ => ()).foreach { case (key, hist) =>
      val prev = merged.get(key)
      merged.put(key, if (prev == null) hist else addInto(prev, hist))
    }
    scala.jdk.CollectionConverters.MapHasAsScala(merged).asScala.iterator.map { case ((node, rb), hist) =>
      job.searches(rb).best(node, rb, hist)
    }.toArray
  }

  private def addInto(a: Array[Long], b: Array[Long]): Array[Long] = {
    var i = 0
    while (i < a.length) { a(i) += b(i); i += 1 }
    a
  }

  /** One partition's pair partials, keyed by (frontier node, root block), emitted chunk by chunk. */
  private def partitionPartials(local: Array[Array[Byte]], treeIpc: Array[Byte], job: PairLevelJob, tag: String,
      reportPeak: Long => Unit): Iterator[((Int, Int), Array[Long])] =
    if (local.isEmpty) Iterator.empty
    else {
      val kernel = PairKernel.open(treeIpc, job.kernelConfig(tag))
      try local.foreach(kernel.addBlock)
      catch { case e: Throwable => kernel.close(); throw e }
      val chunks = job.chunks
      // Lazily, chunk by chunk, so a task holds one chunk's histograms at a time.
      chunks.indices.iterator.flatMap { ci =>
        val hist = try kernel.emit(ci) catch { case e: Throwable => kernel.close(); throw e }
        if (ci == chunks.size - 1) {
          reportPeak(kernel.peakBytes + hist.length * 8L)
          kernel.close()
        }
        val c = chunks(ci)
        val (rb, layout) = job.chunkLayout(ci)
        (0 until c.slotEnd - c.slotStart).iterator.flatMap { slot =>
          if (layout.rows(hist, slot) == 0) Iterator.empty // this partition has no rows in that node
          else Iterator.single((job.frontier(c.slotStart + slot), rb) -> layout.node(hist, slot))
        }
      }
    }
}

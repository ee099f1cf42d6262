package org.sparkpolicy.train

import org.apache.spark.HashPartitioner
import org.apache.spark.rdd.RDD
import org.sparkpolicy.bridge.{HistogramKernel, NodeTableIpc, SplitRecord}
import org.sparkpolicy.ml.model.NodeTable

/**
 * One tree level, collect-less: each partition's native kernel builds histograms for the frontier;
 * `reduceByKey` merges the exact integer partials on executors, where the best split per
 * (node, feature block) is also chosen. Only those split records are collected.
 */
private[sparkpolicy] object LevelSearch {

  def run(
      blocks: RDD[Array[Byte]],
      tree: NodeTable,
      frontier: Array[Int],
      plan: LevelPlan,
      grid: GridCodes,
      nArms: Int,
      minNodeSize: Int,
      nativeThreads: Int,
      depth: Int,
      peakNativeBytes: MaxAccumulator,
      categorical: Array[Boolean] = Array.empty): Array[SplitRecord] =
    runJob(blocks, LevelJob(tree, frontier, plan, grid, nArms, minNodeSize, nativeThreads, depth, categorical = categorical),
      peakNativeBytes)

  def runJob(blocks: RDD[Array[Byte]], job: LevelJob, peakNativeBytes: MaxAccumulator): Array[SplitRecord] =
    runJobs(blocks, Vector(job), peakNativeBytes).head

  /**
   * Several trees' levels in one pass over the blocks (the AIPW fold trees): each partition runs the jobs'
   * kernels one after another, partials are keyed (job, node, feature block) and merged in one shuffle.
   * Returns each job's records, in job order.
   */
  def runJobs(blocks: RDD[Array[Byte]], jobs: Vector[LevelJob], peakNativeBytes: MaxAccumulator): Vector[Array[SplitRecord]] = {
    val sc = blocks.sparkContext
    val payloads = jobs.map(job => sc.broadcast(NodeTableIpc.encode(job.tree)))
    val partials: RDD[((Int, Int, Int), Array[Long])] = blocks.mapPartitions { it =>
      val local = it.toArray // references to the cached blocks, not copies
      FaultInjection.maybeFail("histograms")
      val ctx = org.apache.spark.TaskContext.get()
      jobs.indices.iterator.flatMap { j =>
        val job = jobs(j)
        val tree = if (jobs.size == 1) "" else s"tree $j "
        val tag = if (ctx == null) s"${tree}level ${job.depth}" else s"stage ${ctx.stageId()} partition ${ctx.partitionId()} ${tree}level ${job.depth}"
        partitionPartials(local, payloads(j).value, job, tag, peakNativeBytes.add).map { case ((node, fb), h) => ((j, node, fb), h) }
      }
    }
    val nKeys = jobs.map(job => job.frontier.length * job.plan.featureBlocks.size).sum
    val partitioner = new HashPartitioner(math.max(1, math.min(nKeys, sc.defaultParallelism)))
    try {
      val records = partials
        .reduceByKey(partitioner, (a: Array[Long], b: Array[Long]) => addInto(a, b))
        .map { case ((j, node, fb), hist) => j -> chooseSplit(node, fb, hist, jobs(j)) }
        .collect()
        .groupBy(_._1)
      jobs.indices.toVector.map(j => records.get(j).map(_.map(_._2)).getOrElse(Array.empty[SplitRecord]))
    } finally payloads.foreach(_.destroy())
  }

  /**
   * The same level without Spark, over blocks held in this JVM: one kernel over all of them (what a
   * single partition does), then the same split choice. Used to cross-fit small data in-process and
   * by tests that exercise the production kernels without a cluster.
   */
  def runLocal(blocks: Array[Array[Byte]], job: LevelJob): Array[SplitRecord] = {
    val merged = new java.util.TreeMap[(Int, Int), Array[Long]](Ordering[(Int, Int)])
    partitionPartials(blocks, NodeTableIpc.encode(job.tree), job, s"local level ${job.depth}", _ => ()).foreach { case (key, hist) =>
      val prev = merged.get(key)
      merged.put(key, if (prev == null) hist else addInto(prev, hist))
    }
    scala.jdk.CollectionConverters.MapHasAsScala(merged).asScala.iterator.map { case ((node, fb), hist) =>
      chooseSplit(node, fb, hist, job)
    }.toArray
  }

  private def addInto(a: Array[Long], b: Array[Long]): Array[Long] = {
    var i = 0
    while (i < a.length) { a(i) += b(i); i += 1 }
    a
  }

  private def chooseSplit(node: Int, fb: Int, hist: Array[Long], job: LevelJob): SplitRecord =
    job.splitSearches(fb).best(node, fb, hist)

  /** One partition's histogram partials, keyed by (frontier node, feature block), emitted chunk by chunk. */
  private def partitionPartials(local: Array[Array[Byte]], treeIpc: Array[Byte], job: LevelJob, tag: String,
      reportPeak: Long => Unit): Iterator[((Int, Int), Array[Long])] =
    if (local.isEmpty) Iterator.empty
    else {
      val kernel = HistogramKernel.open(treeIpc, job.kernelConfig(tag))
      try local.foreach(kernel.addBlock)
      catch { case e: Throwable => kernel.close(); throw e }
      val chunks = job.chunks
      // Lazily, chunk by chunk, so a task holds one chunk's histograms at a time.
      chunks.indices.iterator.flatMap { ci =>
        val hist = try kernel.emit(ci) catch { case e: Throwable => kernel.close(); throw e }
        if (ci == chunks.size - 1) {
          // The kernel's native bytes plus the chunk's Java copy: what this task held outside the JVM heap budget.
          reportPeak(kernel.peakBytes + hist.length * 8L)
          kernel.close()
        }
        val c = chunks(ci)
        val (fb, layout) = job.chunkLayout(ci)
        (0 until c.slotEnd - c.slotStart).iterator.flatMap { slot =>
          if (layout.rows(hist, slot) == 0) Iterator.empty // this partition has no rows in that node
          else Iterator.single((job.frontier(c.slotStart + slot), fb) -> layout.node(hist, slot))
        }
      }
    }
}

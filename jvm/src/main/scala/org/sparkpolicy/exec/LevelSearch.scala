package org.sparkpolicy.exec

import org.apache.spark.HashPartitioner
import org.apache.spark.rdd.RDD
import org.sparkpolicy.NativeLib

/**
 * How one level's histograms are cut to fit `maxMemoryMB` per task: frontier slots in groups,
 * features in contiguous blocks. Every (node, feature block) becomes one shuffle key.
 */
private[sparkpolicy] final case class LevelPlan(nodeGroups: Vector[(Int, Int)], featureBlocks: Vector[(Int, Int)]) {
  def chunks: Vector[Chunk] =
    for ((s0, s1) <- nodeGroups; (f0, f1) <- featureBlocks) yield Chunk(s0, s1, f0, f1)
}

private[sparkpolicy] object LevelPlan {
  /**
   * Node groups and feature blocks for one level. Feature blocks are cut by the memory budget and,
   * when the frontier is small, also into at least `minKeys / frontier` blocks so that the merge and
   * split search spread over several reduce tasks instead of one.
   */
  def apply(frontierSize: Int, codesPerFeature: Array[Int], nArms: Int, maxMemoryMB: Int, minKeys: Int = 1): LevelPlan = {
    val budgetCells = math.max(1L, maxMemoryMB.toLong * 1024 * 1024 / 8)
    val stride = (nArms + 1).toLong
    val maxCodes = codesPerFeature.max.toLong
    if (maxCodes * stride > Int.MaxValue)
      throw new IllegalArgumentException(s"one node's histogram of one feature needs ${maxCodes * stride} cells, more than a " +
        "Java array holds; lower maxBins or the number of arms")
    val nodesPerGroup = math.max(1L, math.min(frontierSize.toLong, budgetCells / (maxCodes * stride))).toInt
    val groups = (0 until frontierSize by nodesPerGroup).map(s => (s, math.min(frontierSize, s + nodesPerGroup))).toVector
    val cellLimit = math.min(budgetCells, Int.MaxValue.toLong)
    val wantedBlocks = math.min(codesPerFeature.length, math.max(1, (minKeys + frontierSize - 1) / frontierSize))
    val featuresPerBlock = (codesPerFeature.length + wantedBlocks - 1) / wantedBlocks
    val blocks = Vector.newBuilder[(Int, Int)]
    var start = 0
    var cells = 0L
    codesPerFeature.indices.foreach { f =>
      val c = nodesPerGroup * codesPerFeature(f) * stride
      if (f > start && (cells + c > cellLimit || f - start == featuresPerBlock)) {
        blocks += ((start, f))
        start = f
        cells = 0L
      }
      cells += c
    }
    blocks += ((start, codesPerFeature.length))
    LevelPlan(groups, blocks.result())
  }
}

/** What one level cost and how much reached the driver. */
final case class LevelStats(
    depth: Int,
    frontierNodes: Int,
    featureBlocks: Int,
    nodeGroups: Int,
    recordsToDriver: Int,
    nodesSplit: Int,
    millis: Long,
    peakNativeBytesPerTask: Long = 0L)

/** The largest value any task reported: order-independent, so safe under retries and speculation. */
private[sparkpolicy] final class MaxAccumulator extends org.apache.spark.util.AccumulatorV2[Long, Long] {
  private var max = 0L
  override def isZero: Boolean = max == 0L
  override def copy(): MaxAccumulator = { val c = new MaxAccumulator; c.max = max; c }
  override def reset(): Unit = max = 0L
  override def add(v: Long): Unit = max = math.max(max, v)
  override def merge(other: org.apache.spark.util.AccumulatorV2[Long, Long]): Unit = add(other.value)
  override def value: Long = max
}

/**
 * One tree level, collect-less: each partition's native kernel builds histograms for the frontier;
 * `reduceByKey` merges the exact integer partials on executors, where the best split per
 * (node, feature block) is also chosen. Only those split records are collected.
 */
private[sparkpolicy] object LevelSearch {

  /** What one level's kernels and split searches need besides the blocks. */
  final case class LevelJob(
      tree: NodeTable,
      frontier: Array[Int],
      plan: LevelPlan,
      codesPerFeature: Array[Int],
      nChannels: Int,
      minNodeSize: Int,
      nativeThreads: Int,
      depth: Int,
      skipRows: Option[(Int, Long)] = None,
      outcomeArms: Int = 0,
      categorical: Array[Boolean] = Array.empty) {
    val stride: Int = nChannels + 1
    val chunks: Vector[Chunk] = plan.chunks
    private val blockOf: Map[(Int, Int), Int] = plan.featureBlocks.zipWithIndex.toMap
    /** Per chunk: (feature block index, cells per node in the chunk, cells of its first feature). */
    val chunkLayout: Vector[(Int, Int, Int)] = chunks.map { c =>
      val cells = (c.featureStart until c.featureEnd).map(codesPerFeature(_) * stride).sum
      (blockOf((c.featureStart, c.featureEnd)), cells, codesPerFeature(c.featureStart))
    }
    val splitConfigs: Vector[Array[Byte]] = plan.featureBlocks.map { case (f0, f1) =>
      val kinds = if (categorical.isEmpty) Array.empty[Boolean] else categorical.slice(f0, f1)
      NativeConfigs.split(nChannels, minNodeSize, f0, codesPerFeature.slice(f0, f1), outcomeArms, kinds)
    }
    def kernelConfig(tag: String): Array[Byte] =
      NativeConfigs.kernel(nChannels, codesPerFeature, frontier, chunks, nativeThreads, tag, skipRows)
  }

  def run(
      blocks: RDD[Array[Byte]],
      tree: NodeTable,
      frontier: Array[Int],
      plan: LevelPlan,
      codesPerFeature: Array[Int],
      nArms: Int,
      minNodeSize: Int,
      nativeThreads: Int,
      depth: Int,
      peakNativeBytes: MaxAccumulator,
      categorical: Array[Boolean] = Array.empty): Array[SplitRecord] =
    runJob(blocks, LevelJob(tree, frontier, plan, codesPerFeature, nArms, minNodeSize, nativeThreads, depth, categorical = categorical),
      peakNativeBytes)

  def runJob(blocks: RDD[Array[Byte]], job: LevelJob, peakNativeBytes: MaxAccumulator): Array[SplitRecord] = {
    val sc = blocks.sparkContext
    val payload = sc.broadcast(job.tree.toArrowIpc)
    val partials: RDD[((Int, Int), Array[Long])] = blocks.mapPartitions { it =>
      val local = it.toArray // references to the cached blocks, not copies
      FaultInjection.maybeFail("histograms")
      val ctx = org.apache.spark.TaskContext.get()
      val tag = if (ctx == null) s"level ${job.depth}" else s"stage ${ctx.stageId()} partition ${ctx.partitionId()} level ${job.depth}"
      partitionPartials(local, payload.value, job, tag, peakNativeBytes.add)
    }
    val nKeys = job.frontier.length * job.plan.featureBlocks.size
    val partitioner = new HashPartitioner(math.max(1, math.min(nKeys, sc.defaultParallelism)))
    try {
      partials
        .reduceByKey(partitioner, (a: Array[Long], b: Array[Long]) => addInto(a, b))
        .map { case ((node, fb), hist) => chooseSplit(node, fb, hist, job) }
        .collect()
    } finally payload.destroy()
  }

  /**
   * The same level without Spark, over blocks held in this JVM: one kernel over all of them (what a
   * single partition does), then the same split choice. Used to cross-fit small data in-process and
   * by tests that exercise the production kernels without a cluster.
   */
  def runLocal(blocks: Array[Array[Byte]], job: LevelJob): Array[SplitRecord] = {
    val merged = new java.util.TreeMap[(Int, Int), Array[Long]](Ordering[(Int, Int)])
    partitionPartials(blocks, job.tree.toArrowIpc, job, s"local level ${job.depth}", _ => ()).foreach { case (key, hist) =>
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

  private def chooseSplit(node: Int, fb: Int, hist: Array[Long], job: LevelJob): SplitRecord = {
    NativeLib.load()
    SplitRecord.decode(node, fb, NativeLib.bestSplit(hist, job.splitConfigs(fb)), job.nChannels)
  }

  /** One partition's histogram partials, keyed by (frontier node, feature block), emitted chunk by chunk. */
  private def partitionPartials(local: Array[Array[Byte]], treeIpc: Array[Byte], job: LevelJob, tag: String,
      reportPeak: Long => Unit): Iterator[((Int, Int), Array[Long])] =
    if (local.isEmpty) Iterator.empty
    else {
      NativeLib.load()
      val kernel = NativeLib.kernelOpen(treeIpc, job.kernelConfig(tag))
      val close = TaskResources.closeAtTaskEnd(kernel)
      try local.foreach(NativeLib.kernelAddBlock(kernel, _))
      catch { case e: Throwable => close(); throw e }
      val (chunks, stride, nArms) = (job.chunks, job.stride, job.nChannels)
      // Lazily, chunk by chunk, so a task holds one chunk's histograms at a time.
      chunks.indices.iterator.flatMap { ci =>
        val hist = try NativeLib.kernelEmit(kernel, ci) catch { case e: Throwable => close(); throw e }
        if (ci == chunks.size - 1) {
          // The kernel's native bytes plus the chunk's Java copy: what this task held outside the JVM heap budget.
          reportPeak(NativeLib.kernelPeakBytes(kernel) + hist.length * 8L)
          close()
        }
        val c = chunks(ci)
        val (fb, cells, firstCodes) = job.chunkLayout(ci)
        (c.slotStart until c.slotEnd).iterator.flatMap { slot =>
          val base = (slot - c.slotStart) * cells
          var rows = 0L
          var code = 0
          while (code < firstCodes) { rows += hist(base + code * stride + nArms); code += 1 }
          if (rows == 0) Iterator.empty // this partition has no rows in that node
          else Iterator.single((job.frontier(slot), fb) -> java.util.Arrays.copyOfRange(hist, base, base + cells))
        }
      }
    }
}

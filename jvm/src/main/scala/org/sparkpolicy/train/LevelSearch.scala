package org.sparkpolicy.train

import org.apache.spark.HashPartitioner
import org.apache.spark.rdd.RDD
import org.apache.spark.storage.StorageLevel
import org.sparkpolicy.bridge.{HistogramKernel, NodeTableIpc, SplitRecord}
import org.sparkpolicy.ml.model.NodeTable

/**
 * One tree level, collect-less: each partition's native kernel builds histograms for the frontier;
 * `reduceByKey` merges the exact integer partials on executors, where the best split per
 * (node, feature block) is also chosen. Only those split records are collected. Below the root a level can
 * instead build only the smaller child of each split and derive its sibling from the parent's histogram kept
 * on the executors (`search`, `SiblingPlan`, `LevelHistograms`).
 */
private[sparkpolicy] object LevelSearch {
  private val log = org.slf4j.LoggerFactory.getLogger(getClass)

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
  def runJobs(blocks: RDD[Array[Byte]], jobs: Vector[LevelJob], peakNativeBytes: MaxAccumulator): Vector[Array[SplitRecord]] =
    search(blocks, jobs, peakNativeBytes, None, keep = false).records

  /**
   * What a level returns besides its records: the merged histograms kept for the next level (when asked),
   * and the work, for `LevelStats` and the log. `rowsHistogrammed` is counted by the tasks (a retried task
   * counts again).
   */
  final case class Result(records: Vector[Array[SplitRecord]], kept: Option[LevelHistograms], nodesBuilt: Int, nodesDerived: Int,
      rowsHistogrammed: Long)

  /**
   * `runJobs` with sibling subtraction: a job with `siblings` histograms only its pairs' smaller children,
   * whose merged partials are keyed (tree, parent, feature block) under the level's `HashPartitioner` and
   * cogrouped with `parents` (the previous level's kept histograms, the same keys); each key then yields the
   * smaller child's histogram and the parent's minus it. Where `parents` has the same partitioner (the level
   * after the root, whose kept RDD is the `reduceByKey` output over the same keys) the join is narrow;
   * deeper, each kept parent histogram moves once, keyed by its own node (the partials move once per
   * partition). `keep` persists this level's merged histograms (MEMORY_AND_DISK) for the next level; the
   * caller releases them, and `parents`, when the next level is done. Only split records reach the driver.
   */
  def search(blocks: RDD[Array[Byte]], jobs: Vector[LevelJob], peakNativeBytes: MaxAccumulator, parents: Option[LevelHistograms],
      keep: Boolean): Result = {
    val sc = blocks.sparkContext
    val payloads = jobs.map(job => sc.broadcast(NodeTableIpc.encode(job.tree)))
    // Broadcast, not captured: a job's grid, plan and split searches grow with the features (10 MiB of task
    // binary per stage at 10,000 features), and both the map and the reduce closures read them.
    val shared = sc.broadcast(jobs)
    val rows = sc.longAccumulator(s"sparkpolicy rows histogrammed, level ${jobs.head.depth}")
    val jobOf: Map[Int, Int] = jobs.indices.map(j => jobs(j).treeId -> j).toMap
    require(jobOf.size == jobs.size, s"trees ${jobs.map(_.treeId).mkString(",")} of one pass need distinct ids")
    val partials: RDD[((Int, Int, Int), Array[Long])] = blocks.mapPartitions { it =>
      val local = it.toArray // references to the cached blocks, not copies
      FaultInjection.maybeFail("histograms")
      val ctx = org.apache.spark.TaskContext.get()
      val all = shared.value
      all.indices.iterator.flatMap { j =>
        val job = all(j)
        val tree = if (all.size == 1) "" else s"tree ${job.treeId} "
        val tag = if (ctx == null) s"${tree}level ${job.depth}" else s"stage ${ctx.stageId()} partition ${ctx.partitionId()} ${tree}level ${job.depth}"
        partitionPartials(local, payloads(j).value, job, tag, peakNativeBytes.add, rows.add(_)).map { case ((node, fb), h) =>
          ((job.treeId, job.keyOf(node), fb), h)
        }
      }
    }
    val partitioner = new HashPartitioner(math.max(1, math.min(jobs.map(_.keys).sum, sc.defaultParallelism)))
    val reduced = partials.reduceByKey(partitioner, (a: Array[Long], b: Array[Long]) => addInto(a, b))
    val subtracting = jobs.filter(_.siblings.isDefined).map(job => job.treeId -> job.siblings.get.parents).toMap
    val merged =
      if (subtracting.isEmpty) reduced
      else {
        val kept = parents.getOrElse(throw new IllegalArgumentException("a sibling-subtraction level needs its parents' histograms"))
        // filter keeps the partitioner, so after the root the cogroup stays narrow.
        val needed = kept.histograms.filter { case ((t, p, _), _) => subtracting.get(t).exists(_(p)) }
        reduced.cogroup(needed, partitioner).flatMap { case ((t, key, fb), (small, parent)) =>
          shared.value(jobOf(t)).siblings match {
            case None => small.iterator.map(h => ((t, key, fb), h))
            case Some(plan) =>
              val p = parent.headOption.getOrElse(throw new IllegalStateException(s"tree $t: no histogram of parent $key, block $fb"))
              plan.derive(key, small.headOption, p).iterator.map { case (node, h) => ((t, node, fb), h) }
          }
        }
      }
    if (keep) merged.persist(StorageLevel.MEMORY_AND_DISK)
    try {
      val records = merged
        .map { case ((t, node, fb), hist) => t -> chooseSplit(node, fb, hist, shared.value(jobOf(t))) }
        .collect()
        .groupBy(_._1)
      val result = Result(jobs.map(job => records.get(job.treeId).map(_.map(_._2)).getOrElse(Array.empty[SplitRecord])),
        if (keep) Some(new LevelHistograms(merged)) else None,
        jobs.map(_.kernelFrontier.length).sum, jobs.map(_.siblings.fold(0)(_.derived)).sum, rows.value)
      log.info(s"level ${jobs.head.depth}${if (jobs.size > 1) s" of ${jobs.size} trees" else ""}: ${result.nodesBuilt} node " +
        s"histograms built over ${result.rowsHistogrammed} rows, ${result.nodesDerived} derived from their parents")
      result
    } catch {
      case e: Throwable => if (keep) merged.unpersist(blocking = false); throw e
    } finally {
      // A kept level's lineage may be recomputed later (a lost cached block): the driver keeps the trees for that.
      val broadcasts = payloads :+ shared
      if (keep) broadcasts.foreach(_.unpersist(blocking = false)) else broadcasts.foreach(_.destroy())
    }
  }

  /**
   * The same level without Spark, over blocks held in this JVM: one kernel over all of them (what a
   * single partition does), then the same split choice. Used to cross-fit small data in-process and
   * by tests that exercise the production kernels without a cluster.
   */
  def runLocal(blocks: Array[Array[Byte]], job: LevelJob): Array[SplitRecord] = {
    require(job.siblings.isEmpty, "runLocal builds every node's histogram")
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

  private def chooseSplit(node: Int, fb: Int, hist: Array[Long], job: LevelJob): SplitRecord = job.bestSplit(node, fb, hist)

  /** One partition's histogram partials, keyed by (frontier node, feature block), emitted chunk by chunk. */
  private def partitionPartials(local: Array[Array[Byte]], treeIpc: Array[Byte], job: LevelJob, tag: String,
      reportPeak: Long => Unit, countRows: Long => Unit = _ => ()): Iterator[((Int, Int), Array[Long])] =
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
          val n = layout.rows(hist, slot)
          if (fb == 0) countRows(n) // every node's rows once, in the first feature block
          if (n == 0) Iterator.empty // this partition has no rows in that node
          else Iterator.single((job.kernelFrontier(c.slotStart + slot), fb) -> layout.node(hist, slot))
        }
      }
    }
}

package org.sparkpolicy.exec

import java.util.concurrent.atomic.AtomicLong

import org.sparkpolicy.NativeLib

/** What a scoring task needs of a model; broadcast once per transform. */
private[sparkpolicy] final case class ScoringPayload(treeIpc: Array[Byte], contentHash: String, nFeatures: Int, nArms: Int) {
  /** The same tree compiled for another number of feature columns is another scorer. */
  def cacheKey: String = s"$contentHash/$nFeatures/$nArms"
}

/**
 * Compiled models cached per executor JVM, keyed by the model's content hash and shape: a model is compiled
 * at most once per JVM however many tasks and transforms use it. Bounded (least recently used
 * out); evicting only drops the cache's reference, and tasks still scoring keep theirs.
 */
object ScorerCache {
  val MaxModels = 16
  private val builds = new AtomicLong(0)
  private val cache = new java.util.LinkedHashMap[String, java.lang.Long](MaxModels, 0.75f, true) {
    override def removeEldestEntry(e: java.util.Map.Entry[String, java.lang.Long]): Boolean = {
      val evict = size() > MaxModels
      if (evict) NativeLib.close(e.getValue)
      evict
    }
  }

  /** How many models this JVM has compiled (tests read it to prove the at-most-once promise). */
  def buildCount: Long = builds.get()

  private[sparkpolicy] def modelHandle(p: ScoringPayload): Long = cache.synchronized {
    val cached = cache.get(p.cacheKey)
    if (cached != null) cached.longValue
    else {
      NativeLib.load()
      val handle = NativeLib.modelCompile(p.treeIpc, NativeConfigs.scorer(p.nFeatures, p.nArms))
      builds.incrementAndGet()
      cache.put(p.cacheKey, handle)
      handle
    }
  }

  /** Opens a per-task scorer on the cached model, closed when the task completes. */
  private[sparkpolicy] def openTaskScorer(p: ScoringPayload): (Long, () => Unit) = cache.synchronized {
    val scorer = NativeLib.scorerOpen(modelHandle(p))
    (scorer, TaskResources.closeAtTaskEnd(scorer))
  }
}

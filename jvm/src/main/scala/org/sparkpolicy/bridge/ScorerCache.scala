package org.sparkpolicy.bridge

import java.util.concurrent.atomic.AtomicLong

/**
 * Compiled models cached per executor JVM, keyed by the model's content hash and shape: a model is compiled
 * at most once per JVM however many tasks and transforms use it. Bounded (least recently used
 * out); evicting only drops the cache's reference, and tasks still scoring keep theirs.
 */
private[sparkpolicy] object ScorerCache {
  val MaxModels = 16
  private val builds = new AtomicLong(0)
  private val cache = new java.util.LinkedHashMap[String, java.lang.Long](MaxModels, 0.75f, true) {
    override def removeEldestEntry(e: java.util.Map.Entry[String, java.lang.Long]): Boolean = {
      val evict = size() > MaxModels
      if (evict) NativeLib.close(e.getValue)
      evict
    }
  }

  /** How many models this JVM has compiled (the at-most-once promise is tested on it). */
  private[bridge] def buildCount: Long = builds.get()

  private[sparkpolicy] def modelHandle(p: ScoringPayload): Long = cache.synchronized {
    val cached = cache.get(p.cacheKey)
    if (cached != null) cached.longValue
    else {
      NativeLib.load()
      val handle = NativeLib.modelCompile(p.modelIpc, NativeConfig.toJson(NativeConfig.Scorer(p.nFeatures, p.nArms, p.forest)))
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

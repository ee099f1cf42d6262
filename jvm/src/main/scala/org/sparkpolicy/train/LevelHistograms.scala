package org.sparkpolicy.train

import org.apache.spark.rdd.RDD

/**
 * One level's merged histograms kept on the executors for the next level's sibling subtraction, keyed by
 * (tree, node, feature block) and persisted MEMORY_AND_DISK; never collected. `release` once the next level
 * has its records.
 */
private[sparkpolicy] final class LevelHistograms(val histograms: RDD[((Int, Int, Int), Array[Long])]) {
  def release(): Unit = histograms.unpersist(blocking = false)
}

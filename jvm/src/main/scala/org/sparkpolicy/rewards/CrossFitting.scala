package org.sparkpolicy.rewards

import org.apache.spark.rdd.RDD
import org.apache.spark.sql.Column
import org.apache.spark.sql.functions._
import org.apache.spark.sql.types.DoubleType
import org.sparkpolicy.bridge.SplitRecord
import org.sparkpolicy.ml.model.NodeTable
import org.sparkpolicy.train.{AipwSettings, LevelJob, LevelPlan, LevelSearch, MaxAccumulator, SearchGrid, SplitCriterion, TreeGrower}

/**
 * Cross-fitting of the AIPW nuisances: rows fall into K folds by a hash of their content (or of
 * `rowIdCol`), never by position or partition, and fold k's rows are predicted by an outcome tree
 * grown on every other fold's rows. The trees are grown by the policy tree's machinery on the same
 * bins (`LevelSearch` jobs with the outcome criterion and the held-out fold skipped by the kernel),
 * so they are bit-identical in any layout. They search the policy tree's coarse grid and keep its coarse
 * thresholds (no refinement: they are nuisance models).
 */
private[sparkpolicy] object CrossFitting {
  /** Outcome-block channels: 1{W=a}·Y per arm, then 1{W=a} per arm, then the fold. */
  def channelColumns(arm: Column, y: Column, fold: Column, arms: Int): Seq[Column] =
    (0 until arms).map(a => when(arm === a, y).otherwise(lit(0.0))) ++
      (0 until arms).map(a => when(arm === a, lit(1.0)).otherwise(lit(0.0))) :+ fold.cast(DoubleType)

  /** K outcome trees on Spark: one level job per fold and depth over the cached blocks. */
  def fitTrees(blocks: RDD[Array[Byte]], arms: Int, shift: Int, grid: SearchGrid, settings: AipwSettings,
      categorical: Array[Boolean] = Array.empty): Array[NodeTable] = {
    val sc = blocks.sparkContext
    Array.tabulate(settings.folds) { k =>
      grow(k, arms, shift, grid, settings, sc.defaultParallelism, categorical, { job =>
        sc.setJobDescription(s"AIPW outcome tree for fold $k: level ${job.depth} (${job.frontier.length} nodes)")
        val peak = new MaxAccumulator
        sc.register(peak, s"sparkpolicy peak native bytes, outcome tree $k level ${job.depth}")
        LevelSearch.runJob(blocks, job, peak)
      })
    }
  }

  /** The same trees in this JVM, over blocks built in-process (no Spark); used for small data and by tests. */
  def fitTreesLocal(blocks: Array[Array[Byte]], arms: Int, shift: Int, grid: SearchGrid, settings: AipwSettings): Array[NodeTable] =
    Array.tabulate(settings.folds)(k => grow(k, arms, shift, grid, settings, 1, Array.empty, job => LevelSearch.runLocal(blocks, job)))

  private def grow(fold: Int, arms: Int, shift: Int, grid: SearchGrid, settings: AipwSettings, minKeys: Int,
      categorical: Array[Boolean], runLevel: LevelJob => Array[SplitRecord]): NodeTable = {
    val criterion = SplitCriterion.Outcome(arms, shift, settings.outcomeMinNodeSize)
    val grower = new TreeGrower(criterion, settings.outcomeMaxDepth, settings.outcomeMinNodeSize, grid.edges, categorical)
    var frontier = Array(1)
    var depth = 0
    while (frontier.nonEmpty && depth < settings.outcomeMaxDepth) {
      val plan = LevelPlan(frontier.length, grid.histCodes, criterion.channels, settings.maxMemoryMB, minKeys)
      val job = LevelJob(grower.trainingTable(), frontier, plan, grid, criterion.channels,
        settings.outcomeMinNodeSize, settings.nativeThreads, depth, Some((2 * arms, fold.toLong)), arms, categorical)
      frontier = grower.applyLevel(frontier, runLevel(job))
      depth += 1
    }
    grower.result()
  }
}

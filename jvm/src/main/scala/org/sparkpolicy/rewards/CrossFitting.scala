package org.sparkpolicy.rewards

import org.apache.spark.rdd.RDD
import org.apache.spark.sql.Column
import org.apache.spark.sql.functions._
import org.apache.spark.sql.types.DoubleType
import org.sparkpolicy.bridge.SplitRecord
import org.sparkpolicy.ml.model.NodeTable
import org.sparkpolicy.train.{AipwSettings, LevelHistograms, LevelJob, LevelPlan, LevelSearch, MaxAccumulator, SearchGrid, SiblingPlan,
  SplitCriterion, TreeGrower}

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

  /**
   * K outcome trees on Spark: one pass over the cached blocks per depth, every fold's level keyed by fold.
   * With `siblingSubtraction`, each level but the last keeps its merged histograms on the executors and the
   * next builds only each split's smaller child (`LevelSearch.search`), fold by fold.
   */
  def fitTrees(blocks: RDD[Array[Byte]], arms: Int, shift: Int, grid: SearchGrid, settings: AipwSettings,
      categorical: Array[Boolean] = Array.empty, siblingSubtraction: Boolean = true): Array[NodeTable] = {
    val sc = blocks.sparkContext
    var parents: Option[LevelHistograms] = None
    try grow(arms, shift, grid, settings, sc.defaultParallelism, categorical, siblingSubtraction, { jobs =>
      val depth = jobs.head.depth
      sc.setJobDescription(s"AIPW outcome trees of ${jobs.size} folds: level $depth (${jobs.map(_.frontier.length).sum} nodes, " +
        s"${jobs.map(_.kernelFrontier.length).sum} built)")
      val peak = new MaxAccumulator
      sc.register(peak, s"sparkpolicy peak native bytes, outcome trees level $depth")
      val result = LevelSearch.search(blocks, jobs, peak, parents, keep = siblingSubtraction && depth + 1 < settings.outcomeMaxDepth)
      parents.foreach(_.release())
      parents = result.kept
      result.records
    })
    finally parents.foreach(_.release())
  }

  /** The same trees in this JVM, over blocks built in-process (no Spark); used for small data and by tests. */
  def fitTreesLocal(blocks: Array[Array[Byte]], arms: Int, shift: Int, grid: SearchGrid, settings: AipwSettings): Array[NodeTable] =
    grow(arms, shift, grid, settings, 1, Array.empty, siblingSubtraction = false,
      jobs => jobs.map(job => LevelSearch.runLocal(blocks, job)))

  /**
   * Every fold's tree, level by level in lockstep: `runLevel` gets the level jobs of the folds still growing
   * (tree id = fold). With `siblingSubtraction` a level below the root plans each fold's smaller children in
   * that fold's previous feature blocks (`runLevel` must then hand the previous level's histograms to it).
   */
  private def grow(arms: Int, shift: Int, grid: SearchGrid, settings: AipwSettings, minKeys: Int,
      categorical: Array[Boolean], siblingSubtraction: Boolean,
      runLevel: Vector[LevelJob] => Vector[Array[SplitRecord]]): Array[NodeTable] = {
    val criterion = SplitCriterion.Outcome(arms, shift, settings.outcomeMinNodeSize)
    val growers = Vector.fill(settings.folds)(new TreeGrower(criterion, settings.outcomeMaxDepth, settings.outcomeMinNodeSize, grid.edges, categorical))
    val frontiers = Array.fill(settings.folds)(Array(1))
    val plans = new Array[LevelPlan](settings.folds) // each fold's previous level's plan
    var depth = 0
    while (frontiers.exists(_.nonEmpty) && depth < settings.outcomeMaxDepth) {
      val growing = frontiers.indices.filter(frontiers(_).nonEmpty).toVector
      val jobs = growing.map { k =>
        val siblings = if (siblingSubtraction && depth > 0) Some(SiblingPlan(frontiers(k), growers(k).rowsOf)) else None
        val plan = siblings match {
          case Some(s) => LevelPlan.withFeatureBlocks(s.built.length, plans(k).featureBlocks, grid.histCodes, criterion.channels,
            settings.maxMemoryMB)
          case None => LevelPlan(frontiers(k).length, grid.histCodes, criterion.channels, settings.maxMemoryMB, minKeys)
        }
        plans(k) = plan
        LevelJob(growers(k).trainingTable(), frontiers(k), plan, grid.codes, criterion.channels,
          settings.outcomeMinNodeSize, settings.nativeThreads, depth, Some((2 * arms, k.toLong)), arms, categorical, siblings, treeId = k)
      }
      growing.zip(runLevel(jobs)).foreach { case (k, records) => frontiers(k) = growers(k).applyLevel(frontiers(k), records) }
      depth += 1
    }
    growers.map(_.result()).toArray
  }
}

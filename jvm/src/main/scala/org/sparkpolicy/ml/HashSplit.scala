package org.sparkpolicy.ml

import org.apache.spark.sql.{Column, DataFrame}
import org.sparkpolicy.contract.RowHash
import org.sparkpolicy.train.TrainingData

/**
 * Train/test splits and cross-validation folds decided by a hash of each row's columns (or of an id
 * column), so they are the same in any layout. Spark's `randomSplit` and CrossValidator's default folds
 * depend on the partitioning and would break the semantic contract.
 */
object HashSplit {
  private def unit(cols: Seq[String], seed: Long): Column = {
    RowHash.unit(seed, cols.map(TrainingData.userCol))
  }

  private def keyColumns(df: DataFrame, keyCols: Seq[String]): Seq[String] =
    if (keyCols.nonEmpty) { keyCols.foreach(c => TrainingData.column(df.schema, "keyCols", c)); keyCols } else df.columns.toSeq

  /** (train, test): a row is in train when the hash of `keyCols` (all columns if empty) falls below `trainFraction`. */
  def trainTestSplit(df: DataFrame, trainFraction: Double, keyCols: Seq[String] = Nil, seed: Long = 17L): (DataFrame, DataFrame) = {
    require(trainFraction > 0 && trainFraction < 1, s"trainFraction must be in (0, 1), got $trainFraction")
    val u = unit(keyColumns(df, keyCols), seed)
    (df.where(u < trainFraction), df.where(u >= trainFraction))
  }

  /** Adds an integer fold column in 0 until k from the hash, for CrossValidator's `foldCol`. */
  def withFoldColumn(df: DataFrame, k: Int, foldCol: String = "fold", keyCols: Seq[String] = Nil, seed: Long = 23L): DataFrame = {
    require(k >= 2, s"need at least 2 folds, got $k")
    df.withColumn(foldCol, RowHash.fold(seed, keyColumns(df, keyCols).map(TrainingData.userCol), k))
  }
}

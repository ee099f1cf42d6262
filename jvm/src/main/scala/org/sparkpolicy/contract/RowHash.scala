package org.sparkpolicy.contract

import org.apache.spark.sql.Column
import org.apache.spark.sql.functions.{floor, least, lit, pmod}
import org.apache.spark.sql.types.{DoubleType, IntegerType}

/**
 * The one seeded row hash behind every layout-independent random choice: the boundary sample, the
 * AIPW folds and `HashSplit`'s train/test splits and CV folds. A row's hash is Spark's `xxhash64` of the
 * seed, then (isNull, value) for each key column (the null flag keeps a null from shifting the other
 * keys; `PositionalHash.column`: one node with that SQL's value), so it depends only on the row's content (or its id column), never on position or partition.
 * `python/sparkpolicy/ml/splits.py` mirrors [[unit]] for Spark Connect clients; a test checks they agree.
 */
object RowHash {
  /** Seed of the boundary sample; part of the contract, so never change it silently. */
  val SampleSeed = 20240917L

  /** Seed of the AIPW folds; part of the contract, so never change it silently. */
  val FoldSeed = 20250611L

  private val Unit53 = 1L << 53

  /** The 64-bit hash of a row's key columns under `seed`. */
  def hash(seed: Long, keys: Seq[Column]): Column = PositionalHash.column(lit(seed), keys.map(_ -> false))

  /** The hash mapped to [0, 1) with 53 bits: `pmod(hash, 2^53) / 2^53`. */
  def unit(seed: Long, keys: Seq[Column]): Column = unitOf(hash(seed, keys))

  /** [[unit]] of an already computed hash column. */
  def unitOf(hash: Column): Column = pmod(hash, lit(Unit53)).cast(DoubleType) / lit(Unit53.toDouble)

  /** [[unit]] of a hash value on an executor, bit-identical to the SQL form. */
  def unitOf(hash: Long): Double = java.lang.Math.floorMod(hash, Unit53).toDouble / Unit53.toDouble

  /** The fold 0 until `folds` of a row: `min(floor(unit · folds), folds − 1)`. */
  def fold(seed: Long, keys: Seq[Column], folds: Int): Column =
    least(floor(unit(seed, keys) * folds).cast(IntegerType), lit(folds - 1))
}

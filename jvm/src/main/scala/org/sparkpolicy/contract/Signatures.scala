package org.sparkpolicy.contract

import java.nio.ByteBuffer
import java.security.MessageDigest
import org.apache.spark.sql.{Column, DataFrame}
import org.apache.spark.sql.catalyst.expressions.XxHash64Function
import org.apache.spark.sql.catalyst.util.ArrayData
import org.apache.spark.sql.functions._
import org.apache.spark.sql.sparkpolicy.InternalFrames
import org.apache.spark.sql.types.{ArrayType, DecimalType, DoubleType, IntegerType, LongType, StringType}
import org.apache.spark.unsafe.types.UTF8String

/**
 * SHA-256 signatures over canonical bytes. Row-level signatures (input, output) are
 * order-independent: the row count plus the wrapping sum and the xor of two 64-bit content hashes
 * per row, aggregated exactly ([[RowHashes]]), so any partitioning, order or retry gives the same
 * bytes, while adding, dropping or changing a row changes them. The per-row hashes are Spark's
 * `xxhash64`; a fit computes them inside its own passes ([[inputHashes]], [[rowKey]], [[OutputRowHasher]])
 * and gets the bytes `input` and `output` give over DataFrames.
 */
object Signatures {
  val Keys: Seq[String] = Seq("manifest", "boundaries", "model", "decisions", "input", "output")

  private val InputDomain = "sparkpolicy-input-v1"
  private val OutputDomain = "sparkpolicy-output-v1"

  def sha256Hex(bytes: Array[Byte]): String =
    MessageDigest.getInstance("SHA-256").digest(bytes).map(b => f"$b%02x").mkString

  /**
   * Count, wrapping sums (mod 2^64) and xors of the two hashes of a set of rows: merged in any order to
   * the same value. Mutable, for one task's rows or a merge; `merge` returns this.
   */
  final class RowHashes extends Serializable {
    var count = 0L
    var sum1 = 0L
    var xor1 = 0L
    var sum2 = 0L
    var xor2 = 0L

    def add(h1: Long, h2: Long): Unit = { count += 1; sum1 += h1; xor1 ^= h1; sum2 += h2; xor2 ^= h2 }

    def merge(o: RowHashes): RowHashes = {
      count += o.count; sum1 += o.sum1; xor1 ^= o.xor1; sum2 += o.sum2; xor2 ^= o.xor2
      this
    }

    private[Signatures] def signature(domain: String): String = {
      val domainBytes = domain.getBytes("UTF-8")
      val buf = ByteBuffer.allocate(domainBytes.length + 5 * 8).put(domainBytes)
      buf.putLong(count).putLong(sum1).putLong(xor1).putLong(sum2).putLong(xor2)
      sha256Hex(buf.array())
    }
  }

  def inputSignature(rows: RowHashes): String = rows.signature(InputDomain)
  def outputSignature(rows: RowHashes): String = rows.signature(OutputDomain)

  private def quoted(name: String): Column = col("`" + name.replace("`", "``") + "`")

  /**
   * A column a row hash reads, by name: as its value cast to string (`asString`: a categorical feature's
   * label, the treatment) or as a double in canonical form (NaN as null, −0.0 as 0.0).
   */
  final case class HashedColumn(name: String, asString: Boolean) {
    def column: Column = if (asString) quoted(name).cast(StringType) else quoted(name).cast(DoubleType)
  }

  /** The prefixes of the input signature's two per-row hashes. */
  val InputPrefixes: (String, String) = ("sparkpolicy-input-1", "sparkpolicy-input-2")
  private val RowKeyPrefix = "sparkpolicy-rowkey-1"

  /**
   * The hash of `cols` under `prefix`: `xxhash64(prefix, isnull(c1), c1', …)`, each double c' in canonical
   * form; the null flag keeps a value's position (xxhash64 skips nulls). `PositionalHash.column` computes
   * it as one node with the SQL's value.
   */
  private def hash(prefix: String, cols: Seq[HashedColumn]): Column =
    PositionalHash.column(lit(prefix), cols.map(c => c.column -> !c.asString))

  /**
   * The feature columns: the key that identifies a row for scoring. A categorical feature enters as its
   * label (the value as a string), so unseen labels stay distinct.
   */
  private def featureColumns(names: Seq[String], categorical: Seq[Boolean]): Seq[HashedColumn] =
    names.zip(categorical).map { case (name, cat) => HashedColumn(name, asString = cat) }

  /** The columns Γ is built from, per the reward definition. */
  private def rewardColumns(r: RewardSpec): Seq[HashedColumn] =
    r.treatmentCol.map(HashedColumn(_, asString = true)).toSeq ++
      (r.rewardCols ++ r.outcomeCol.toSeq ++ r.propensityCol.toSeq).map(HashedColumn(_, asString = false))

  /**
   * The columns the input signature's row hashes read, in order: the features, then the reward's source
   * columns. A pass that hashes rows itself (`train.PassHashes`) reads this list, so both agree.
   */
  def inputHashedColumns(featureNames: Seq[String], categorical: Seq[Boolean], reward: RewardSpec): Seq[HashedColumn] =
    featureColumns(featureNames, categorical) ++ rewardColumns(reward)

  /** Names of every column the input signature reads, in order. */
  def inputColumnNames(c: Contract): Seq[String] =
    c.featureNames ++ c.reward.treatmentCol.toSeq ++ c.reward.rewardCols ++ c.reward.outcomeCol.toSeq ++ c.reward.propensityCol.toSeq

  /**
   * The two per-row hashes of the input signature, from the features (name, categorical) and the reward's
   * source columns: what `input` aggregates, for a pass that runs before the contract is complete.
   */
  def inputHashes(featureNames: Seq[String], categorical: Seq[Boolean], reward: RewardSpec): (Column, Column) =
  {
    val cols = inputHashedColumns(featureNames, categorical, reward)
    (hash(InputPrefixes._1, cols), hash(InputPrefixes._2, cols))
  }

  /** A row's key hash, the first value `output` hashes per row, from the features (name, categorical). */
  def rowKey(featureNames: Seq[String], categorical: Seq[Boolean]): Column =
    hash(RowKeyPrefix, featureColumns(featureNames, categorical))

  /**
   * [[rowKey]] of `n` rows whose features are all numeric, from their values cast to double, a column at a
   * time: `values(f)(r)` is row r's feature f, missing where `missing(f)` lists r (an ascending list of rows;
   * its value is then ignored). The same value as the SQL, computed for many rows at once: each row's
   * hash is a chain of dependent multiplies, so hashing row by row waits on every step, and a column of
   * independent rows does not.
   */
  def numericRowKeys(values: Int => Array[Double], missing: Int => Array[Int], nFeatures: Int, n: Int): Array[Long] = {
    val keys = Array.fill(n)(RowKeyPrefixHash)
    var f = 0
    while (f < nFeatures) {
      val (v, gaps) = (values(f), missing(f))
      var (r, g) = (0, 0)
      while (r < n) {
        val isNull = g < gaps.length && gaps(g) == r
        if (isNull) g += 1
        keys(r) = PositionalHash.mixDouble(isNull, v(r), true, keys(r))
        r += 1
      }
      f += 1
    }
    keys
  }

  private lazy val RowKeyPrefixHash: Long = XxHash64Function.hash(UTF8String.fromString(RowKeyPrefix), StringType, PositionalHash.Seed)

  private def aggregate(hashed: DataFrame): RowHashes = {
    val (h1, h2) = (col("h1"), col("h2"))
    val dec = DecimalType(20, 0)
    val r = hashed.agg(count(lit(1)), sum(h1.cast(dec)), bit_xor(h1), sum(h2.cast(dec)), bit_xor(h2)).head()
    def wrapped(i: Int): Long = if (r.isNullAt(i)) 0L else r.getDecimal(i).toBigInteger.longValue() // mod 2^64
    def long(i: Int): Long = if (r.isNullAt(i)) 0L else r.getLong(i)
    val rows = new RowHashes
    rows.count = r.getLong(0)
    rows.sum1 = wrapped(1); rows.xor1 = long(2); rows.sum2 = wrapped(3); rows.xor2 = long(4)
    rows
  }

  /** Order-independent signature of the rows' contract columns (features and Γ sources). */
  def input(df: DataFrame, c: Contract): String = {
    val missing = inputColumnNames(c).filterNot(n => df.columns.contains(n))
    if (missing.nonEmpty)
      throw new IllegalArgumentException(s"inputSignature needs the contract's columns; missing: ${missing.mkString(", ")}")
    val (h1, h2) = inputHashes(c.featureNames, c.features.map(_.isCategorical), c.reward)
    inputSignature(aggregate(df.select(h1.as("h1"), h2.as("h2"))))
  }

  /** The per-row hashes of `output`, over a scored DataFrame. */
  def outputHashes(scored: DataFrame, c: Contract, actionCol: String, scoresCol: String): RowHashes = {
    val outs = Seq(rowKey(c.featureNames, c.features.map(_.isCategorical)), col(actionCol), col(scoresCol))
    val (h1, h2) = (xxhash64(lit(OutputRowHasher.Salt1) +: outs: _*), xxhash64(lit(OutputRowHasher.Salt2) +: outs: _*))
    aggregate(scored.select(h1.as("h1"), h2.as("h2")))
  }

  /** Order-independent signature of (row key, action, score bits) over a scored DataFrame. */
  def output(scored: DataFrame, c: Contract, actionCol: String, scoresCol: String): String =
    outputSignature(outputHashes(scored, c, actionCol, scoresCol))

  /**
   * The hashes `output` computes per scored row, computed outside SQL with Spark's own xxhash64 function
   * (the one the SQL expression evaluates): for a row with key hash `rowKey` ([[rowKey]]) scored `action`
   * with `scores`. Lets a fit sign its training output from the rows' leaves, without scoring them again.
   */
  final class OutputRowHasher extends Serializable {
    import OutputRowHasher._
    private val seed1 = XxHash64Function.hash(UTF8String.fromString(Salt1), StringType, DefaultSeed)
    private val seed2 = XxHash64Function.hash(UTF8String.fromString(Salt2), StringType, DefaultSeed)

    private def chain(seed: Long, rowKey: Long, action: Int, scores: ArrayData): Long = {
      val k = XxHash64Function.hash(rowKey, LongType, seed)
      XxHash64Function.hash(scores, ScoresType, XxHash64Function.hash(action, IntegerType, k))
    }

    def add(into: RowHashes, rowKey: Long, action: Int, scores: ArrayData): Unit =
      into.add(chain(seed1, rowKey, action, scores), chain(seed2, rowKey, action, scores))
  }

  object OutputRowHasher {
    private[Signatures] val Salt1 = "sparkpolicy-output-1"
    private[Signatures] val Salt2 = "sparkpolicy-output-2"
    /** `xxhash64`'s seed before its first argument. */
    private val DefaultSeed = 42L
    private val ScoresType = ArrayType(DoubleType, containsNull = false)

    /** A leaf's scores in the form the hasher reads. */
    def scores(values: Seq[Double]): ArrayData = ArrayData.toArrayData(values.toArray)
  }
}

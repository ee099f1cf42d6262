package org.sparkpolicy.contract

import java.nio.ByteBuffer
import java.security.MessageDigest
import org.apache.spark.sql.{Column, DataFrame}
import org.apache.spark.sql.functions._
import org.apache.spark.sql.types.{DecimalType, DoubleType, StringType}

/**
 * SHA-256 signatures over canonical bytes. Row-level signatures (input, output) are
 * order-independent: the row count plus the wrapping sum and the xor of two 64-bit content hashes
 * per row, aggregated exactly (decimal sums, bit_xor), so any partitioning, order or retry gives
 * the same bytes, while adding, dropping or changing a row changes them.
 */
object Signatures {
  val Keys: Seq[String] = Seq("manifest", "boundaries", "model", "decisions", "input", "output")

  def sha256Hex(bytes: Array[Byte]): String =
    MessageDigest.getInstance("SHA-256").digest(bytes).map(b => f"$b%02x").mkString

  /** A double in canonical form for hashing: NaN and null as null, -0.0 as 0.0. */
  private def canonicalDouble(c: Column): Column = {
    val d = c.cast(DoubleType)
    when(isnan(d), lit(null).cast(DoubleType)).when(d === 0.0, lit(0.0)).otherwise(d)
  }

  /** Hash inputs that keep each value's position: a null flag before every value (xxhash64 skips nulls). */
  private def positional(cols: Seq[Column]): Seq[Column] = cols.flatMap(c => Seq(c.isNull, c))

  private def hashes(salt: String, cols: Seq[Column]): (Column, Column) = {
    val args = positional(cols)
    (xxhash64(lit(s"$salt-1") +: args: _*), xxhash64(lit(s"$salt-2") +: args: _*))
  }

  /**
   * The contract's feature columns, canonicalized: the key that identifies a row for scoring. A
   * categorical feature enters as its label (the value as a string), so unseen labels stay distinct.
   */
  private def featureColumns(c: Contract): Seq[Column] = c.features.map { f =>
    val x = col("`" + f.name.replace("`", "``") + "`")
    if (f.isCategorical) x.cast(StringType) else canonicalDouble(x)
  }

  /** The columns Γ is built from, per the contract's reward definition. */
  private def rewardColumns(c: Contract): Seq[Column] = {
    val r = c.reward
    r.treatmentCol.map(t => col(s"`$t`").cast(StringType)).toSeq ++
      r.rewardCols.map(n => canonicalDouble(col(s"`$n`"))) ++
      (r.outcomeCol.toSeq ++ r.propensityCol.toSeq).map(n => canonicalDouble(col(s"`$n`")))
  }

  /** Names of every column the input signature reads, in order. */
  def inputColumnNames(c: Contract): Seq[String] =
    c.featureNames ++ c.reward.treatmentCol.toSeq ++ c.reward.rewardCols ++ c.reward.outcomeCol.toSeq ++ c.reward.propensityCol.toSeq

  private def aggregate(domain: String, hashed: DataFrame): String = {
    val (h1, h2) = (col("h1"), col("h2"))
    val dec = DecimalType(20, 0)
    val r = hashed.agg(count(lit(1)), sum(h1.cast(dec)), bit_xor(h1), sum(h2.cast(dec)), bit_xor(h2)).head()
    def wrapped(i: Int): Long = if (r.isNullAt(i)) 0L else r.getDecimal(i).toBigInteger.longValue() // mod 2^64
    def long(i: Int): Long = if (r.isNullAt(i)) 0L else r.getLong(i)
    val domainBytes = domain.getBytes("UTF-8")
    val buf = ByteBuffer.allocate(domainBytes.length + 5 * 8).put(domainBytes)
    buf.putLong(r.getLong(0)).putLong(wrapped(1)).putLong(long(2)).putLong(wrapped(3)).putLong(long(4))
    sha256Hex(buf.array())
  }

  /** Order-independent signature of the rows' contract columns (features and Γ sources). */
  def input(df: DataFrame, c: Contract): String = {
    val missing = inputColumnNames(c).filterNot(n => df.columns.contains(n))
    if (missing.nonEmpty)
      throw new IllegalArgumentException(s"inputSignature needs the contract's columns; missing: ${missing.mkString(", ")}")
    val (h1, h2) = hashes("sparkpolicy-input", featureColumns(c) ++ rewardColumns(c))
    aggregate("sparkpolicy-input-v1", df.select(h1.as("h1"), h2.as("h2")))
  }

  /** Order-independent signature of (row key, action, score bits) over a scored DataFrame. */
  def output(scored: DataFrame, c: Contract, actionCol: String, scoresCol: String): String = {
    val (k1, _) = hashes("sparkpolicy-rowkey", featureColumns(c))
    val outs = Seq(k1, col(actionCol), col(scoresCol))
    val (h1, h2) = (xxhash64(lit("sparkpolicy-output-1") +: outs: _*), xxhash64(lit("sparkpolicy-output-2") +: outs: _*))
    aggregate("sparkpolicy-output-v1", scored.select(h1.as("h1"), h2.as("h2")))
  }
}

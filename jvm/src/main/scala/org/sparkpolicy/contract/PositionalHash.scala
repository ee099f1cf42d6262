package org.sparkpolicy.contract

import org.apache.spark.sql.Column
import org.apache.spark.sql.catalyst.InternalRow
import org.apache.spark.sql.catalyst.expressions.{Expression, XxHash64Function}
import org.apache.spark.sql.functions.{isnan, lit, when, xxhash64}
import org.apache.spark.sql.sparkpolicy.InternalFrames
import org.apache.spark.sql.catalyst.expressions.codegen.CodegenFallback
import org.apache.spark.sql.types.{BooleanType, DataType, DoubleType, LongType}

/**
 * `xxhash64(prefix, isnull(c1), c1, isnull(c2), c2, …)` (seed 42, Spark's default) as one Catalyst node:
 * the row hashes behind the signatures and `RowHash`. Written as SQL, that is a tree of about 15 nodes
 * per column (the null flags, and for signatures each double's canonical form as a `CASE`), which
 * Catalyst's analyzer and optimizer walk rule after rule: 25–45 s of planning per query at 1,000
 * features, before a row is read. Here the tree is one node over the columns themselves, and the value is
 * bit-identical, because each value goes through `XxHash64Function.hash`, the hashing the SQL function
 * evaluates (and `Signatures.OutputRowHasher` already uses).
 *
 * `children.head` is the prefix (a salt string or a seed literal), hashed as it is; each later child is
 * hashed as its null flag, then its value. With `canonicalDoubles`, a double child's NaN counts as null
 * and −0.0 as 0.0 (the signatures' canonical form), as `CASE WHEN isnan(d) THEN NULL WHEN d = 0 THEN 0.0
 * ELSE d END` does. `PositionalHashSuite` checks both forms against the SQL they replace.
 */
private[sparkpolicy] final case class PositionalHash(children: Seq[Expression], canonicalDoubles: Boolean)
    extends Expression with CodegenFallback {
  require(children.nonEmpty, "PositionalHash needs a prefix")

  override def nullable: Boolean = false
  override def dataType: DataType = LongType

  // Arrays: `children` may be a List, and eval indexes it once per column and row.
  @transient private lazy val kids: Array[Expression] = children.toArray
  @transient private lazy val types: Array[DataType] = children.map(_.dataType).toArray
  @transient private lazy val canonical: Array[Boolean] = types.map(t => canonicalDoubles && t == DoubleType)

  override def eval(input: InternalRow): Any = {
    var hash = XxHash64Function.hash(kids(0).eval(input), types(0), PositionalHash.Seed)
    var i = 1
    val n = types.length
    while (i < n) {
      var v = kids(i).eval(input)
      if (canonical(i) && v != null) {
        val d = v.asInstanceOf[Double]
        if (d.isNaN) v = null else if (d == 0.0) v = 0.0
      }
      hash = XxHash64Function.hash(v == null, BooleanType, hash)
      hash = XxHash64Function.hash(v, types(i), hash)
      i += 1
    }
    hash
  }

  override protected def withNewChildrenInternal(newChildren: IndexedSeq[Expression]): Expression = copy(children = newChildren)
}

private[sparkpolicy] object PositionalHash {
  /** `xxhash64`'s default seed. */
  val Seed = 42L

  /**
   * Up to this many hashed columns the hash is written as SQL, which Spark compiles to code: about 0.35 µs
   * a row faster per hash at 10 columns (1M rows: 0.65–0.8 s against 1.0–1.1 s) than this node, which is
   * interpreted. Past it, the SQL tree's planning (about 10 ms a column per hash) costs more than that.
   * Both forms give the same value, so the choice is invisible to every signature and sample.
   */
  val SqlUpTo = 64

  /**
   * The hash of `prefix`, then (null flag, value) per column of `cols`; a column flagged `true` is a
   * double hashed in canonical form (NaN as null, −0.0 as 0.0); flag every double column or none. SQL up
   * to `sqlUpTo` columns, else one node.
   */
  def column(prefix: Column, cols: Seq[(Column, Boolean)], sqlUpTo: Int = SqlUpTo): Column =
    if (cols.size <= sqlUpTo) {
      xxhash64(prefix +: cols.flatMap { case (c, canonical) =>
        val v = if (!canonical) c else when(isnan(c), lit(null).cast(DoubleType)).when(c === 0.0, lit(0.0)).otherwise(c)
        Seq(v.isNull, v)
      }: _*)
    } else {
      // The node canonicalizes by type, every double child: callers flag every double column or none (the
      // signatures' unflagged columns are labels cast to string; RowHash flags none).
      val canonical = cols.exists(_._2)
      InternalFrames.column(PositionalHash((prefix +: cols.map(_._1)).map(InternalFrames.expression), canonical))
    }
}

package org.sparkpolicy.contract

import org.apache.spark.sql.Column
import org.apache.spark.sql.catalyst.InternalRow
import org.apache.spark.sql.catalyst.expressions.{Expression, XXH64, XxHash64Function}
import org.apache.spark.sql.catalyst.expressions.codegen.{CodegenContext, CodeGenerator, ExprCode, FalseLiteral}
import org.apache.spark.sql.catalyst.expressions.codegen.Block._
import org.apache.spark.sql.sparkpolicy.InternalFrames
import org.apache.spark.sql.types._

/**
 * `xxhash64(prefix, isnull(c1), c1, isnull(c2), c2, …)` (seed 42, Spark's default) as one Catalyst node:
 * the row hashes behind the signatures and `RowHash`. Written as SQL, that is a tree of about 15 nodes
 * per column (the null flags, and for signatures each double's canonical form as a `CASE`), which
 * Catalyst's analyzer and optimizer walk rule after rule (25–45 s of planning per query at 1,000
 * features), and whose generated code grows past the JIT's 8,000-byte method limit at a few dozen
 * columns, so the stage runs in the bytecode interpreter (a 1M × 50 fit: 20 s of binning instead of 4).
 * Here the tree is one node over the columns themselves, and its generated code is one call per column
 * into [[PositionalHash$]]'s `mix*` steps, split into methods of Spark's size where the context allows.
 * The value is bit-identical to the SQL's, because each value is hashed as `XxHash64Function.hash` (the
 * hashing the SQL function evaluates) hashes it: the interpreted `eval` calls it, the `mix*` steps do
 * what it does per type (and call it for every type without a step of its own).
 *
 * `children.head` is the prefix (a salt string or a seed literal: foldable), hashed as it is; each later
 * child is hashed as its null flag, then its value. With `canonicalDoubles`, a double child's NaN counts
 * as null and −0.0 as 0.0 (the signatures' canonical form), as `CASE WHEN isnan(d) THEN NULL WHEN d = 0
 * THEN 0.0 ELSE d END` does. `PositionalHashSuite` checks both paths against the SQL they replace.
 */
private[sparkpolicy] final case class PositionalHash(children: Seq[Expression], canonicalDoubles: Boolean) extends Expression {
  require(children.nonEmpty, "PositionalHash needs a prefix")

  override def nullable: Boolean = false
  override def dataType: DataType = LongType

  // Arrays: `children` may be a List, and eval indexes it once per column and row.
  @transient private lazy val kids: Array[Expression] = children.toArray
  @transient private lazy val types: Array[DataType] = children.map(_.dataType).toArray
  @transient private lazy val canonical: Array[Boolean] = types.map(t => canonicalDoubles && t == DoubleType)
  @transient private lazy val prefixHash: Long = {
    require(kids(0).foldable, s"PositionalHash needs a constant prefix, not ${kids(0)}")
    XxHash64Function.hash(kids(0).eval(null), types(0), PositionalHash.Seed)
  }

  override def eval(input: InternalRow): Any = {
    var hash = prefixHash
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

  override protected def doGenCode(ctx: CodegenContext, ev: ExprCode): ExprCode = {
    val steps = "org.sparkpolicy.contract.PositionalHash$.MODULE$"
    val hash = ev.value
    val columns = children.tail.map { child =>
      val c = child.genCode(ctx)
      import PositionalHash.Step
      val step = PositionalHash.stepOf(child.dataType) match {
        case Step.Double => s"$steps.mixDouble(${c.isNull}, ${c.value}, $canonicalDoubles, $hash)"
        case Step.Long => s"$steps.mixLong(${c.isNull}, ${c.value}, $hash)"
        case Step.Int | Step.Short | Step.Byte => s"$steps.mixInt(${c.isNull}, ${c.value}, $hash)"
        case Step.Boolean => s"$steps.mixInt(${c.isNull}, ${c.value} ? 1 : 0, $hash)"
        case Step.Float => s"$steps.mixFloat(${c.isNull}, ${c.value}, $hash)"
        case _ =>
          val dt = ctx.addReferenceObj("hashedType", child.dataType, classOf[DataType].getName)
          s"$steps.mixObject(${c.isNull} ? null : (Object) ${c.value}, $dt, $hash)"
      }
      s"${c.code}\n$hash = $step;"
    }
    val body = ctx.splitExpressionsWithCurrentInputs(
      expressions = columns,
      funcName = "positionalHash",
      extraArguments = Seq("long" -> hash),
      returnType = "long",
      makeSplitFunction = b => s"$b\nreturn $hash;",
      foldFunctions = _.map(call => s"$hash = $call;").mkString("\n"))
    ev.copy(code = code"long $hash = ${prefixHash}L;\n$body", isNull = FalseLiteral)
  }

  override protected def withNewChildrenInternal(newChildren: IndexedSeq[Expression]): Expression = copy(children = newChildren)
}

private[sparkpolicy] object PositionalHash {
  /** `xxhash64`'s default seed. */
  val Seed = 42L

  /**
   * The hash of `prefix` (a literal), then (null flag, value) per column of `cols`; a column flagged
   * `true` is a double hashed in canonical form (NaN as null, −0.0 as 0.0); flag every double column or
   * none: the node canonicalizes by type, every double child (the signatures' unflagged columns are labels
   * cast to string; RowHash flags none).
   */
  def column(prefix: Column, cols: Seq[(Column, Boolean)]): Column =
    InternalFrames.column(PositionalHash((prefix +: cols.map(_._1)).map(InternalFrames.expression), cols.exists(_._2)))

  /**
   * How a column of each type is hashed without boxing: the generated code's step, and [[mixAt]]'s (the
   * validation pass hashes its frame's rows with it, `train.PassHashes`). `Object` is every other type,
   * through `XxHash64Function.hash` itself.
   */
  object Step {
    final val Double = 0; final val Long = 1; final val Int = 2; final val Short = 3; final val Byte = 4
    final val Boolean = 5; final val Float = 6; final val Object = 7
  }

  def stepOf(t: DataType): Int = t match {
    case DoubleType => Step.Double
    case LongType | TimestampType | TimestampNTZType => Step.Long
    case IntegerType | DateType => Step.Int
    case ShortType => Step.Short
    case ByteType => Step.Byte
    case BooleanType => Step.Boolean
    case FloatType => Step.Float
    case other if CodeGenerator.isPrimitiveType(other) =>
      throw new IllegalStateException(s"PositionalHash has no step for the primitive type $other")
    case _ => Step.Object
  }

  /**
   * Row ordinal `i` (of type `t`, whose [[stepOf]] is `step`) into `seed`, as the generated code hashes
   * that column: a double in canonical form when `canonical`.
   */
  def mixAt(row: InternalRow, i: Int, t: DataType, step: Int, canonical: Boolean, seed: Long): Long = {
    val isNull = row.isNullAt(i)
    step match {
      case Step.Double => mixDouble(isNull, if (isNull) 0.0 else row.getDouble(i), canonical, seed)
      case Step.Long => mixLong(isNull, if (isNull) 0L else row.getLong(i), seed)
      case Step.Int => mixInt(isNull, if (isNull) 0 else row.getInt(i), seed)
      case Step.Short => mixInt(isNull, if (isNull) 0 else row.getShort(i).toInt, seed)
      case Step.Byte => mixInt(isNull, if (isNull) 0 else row.getByte(i).toInt, seed)
      case Step.Boolean => mixInt(isNull, if (!isNull && row.getBoolean(i)) 1 else 0, seed)
      case Step.Float => mixFloat(isNull, if (isNull) 0.0f else row.getFloat(i), seed)
      case _ => mixObject(if (isNull) null else row.get(i, t), t, seed)
    }
  }

  // The generated code's steps: (null flag, value) into `seed`, as XxHash64Function.hash hashes each type
  // (a boolean as the int 1 or 0, ±0.0 as the long 0, a null value not at all).

  def mixDouble(isNull: Boolean, v: Double, canonical: Boolean, seed: Long): Long = {
    val missing = isNull || (canonical && java.lang.Double.isNaN(v))
    val h = XXH64.hashInt(if (missing) 1 else 0, seed)
    if (missing) h else XXH64.hashLong(if (v == 0.0) 0L else java.lang.Double.doubleToLongBits(v), h)
  }

  def mixFloat(isNull: Boolean, v: Float, seed: Long): Long = {
    val h = XXH64.hashInt(if (isNull) 1 else 0, seed)
    if (isNull) h else XXH64.hashInt(if (v == 0.0f) 0 else java.lang.Float.floatToIntBits(v), h)
  }

  def mixLong(isNull: Boolean, v: Long, seed: Long): Long = {
    val h = XXH64.hashInt(if (isNull) 1 else 0, seed)
    if (isNull) h else XXH64.hashLong(v, h)
  }

  def mixInt(isNull: Boolean, v: Int, seed: Long): Long = {
    val h = XXH64.hashInt(if (isNull) 1 else 0, seed)
    if (isNull) h else XXH64.hashInt(v, h)
  }

  def mixObject(v: Any, dataType: DataType, seed: Long): Long =
    XxHash64Function.hash(v, dataType, XXH64.hashInt(if (v == null) 1 else 0, seed))
}

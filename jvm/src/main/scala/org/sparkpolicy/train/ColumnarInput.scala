package org.sparkpolicy.train

import org.apache.spark.rdd.RDD
import org.apache.spark.sql.DataFrame
import org.apache.spark.sql.catalyst.expressions.{Alias, Attribute, Cast, Expression, Literal}
import org.apache.spark.sql.execution.{ColumnarToRowExec, InputAdapter, ProjectExec, SparkPlan, WholeStageCodegenExec}
import org.apache.spark.sql.execution.vectorized.{ConstantColumnVector, OnHeapColumnVector}
import org.apache.spark.sql.types._
import org.apache.spark.sql.vectorized.{ColumnVector, ColumnarBatch}
import org.apache.spark.unsafe.types.UTF8String

/**
 * A frame's partitions as the source's own column vectors, for the fit's two passes over its input: when
 * the frame's physical plan is a columnar source (the vectorized Parquet and ORC readers, a columnar
 * cache) under one projection of source columns, literals and numeric-to-double casts, each pass reads
 * the vectors instead of the rows Spark's ColumnarToRow stage assembles from them (with 50 double
 * features, half of either pass's time went into building and reading those rows). Column i of every
 * batch is the frame's column i with the row path's values: a cast column converts as `Cast` does
 * into a reused double vector (every numeric type widens exactly or rounds as `toDouble`), a literal is
 * Spark's constant vector.
 *
 * `batches` is None for any other plan (a filter, a computed column, a row source): the caller reads
 * rows, with the same result. Session conf [[Conf]] = `false` turns the columnar reading off.
 */
private[sparkpolicy] object ColumnarInput {
  val Conf = "spark.sparkpolicy.fit.columnarInput"
  private val log = org.slf4j.LoggerFactory.getLogger(getClass)

  /** How one output column comes out of the source's batch. */
  private sealed trait Source extends Serializable
  private final case class Passed(ordinal: Int) extends Source
  private final case class AsDouble(ordinal: Int, from: DataType) extends Source
  private final case class Constant(value: Any, dataType: DataType) extends Source

  /** `frame`'s partitions as batches of its columns, or None when its plan is not a projected columnar source. */
  def batches(frame: DataFrame): Option[RDD[ColumnarBatch]] = {
    val enabled = frame.sparkSession.conf.get(Conf, "true").trim.toLowerCase(java.util.Locale.ROOT) != "false"
    if (!enabled) return None
    val plan = frame.queryExecution.executedPlan
    val found = columnar(plan)
    if (found.isEmpty) log.debug(s"rows, not column vectors: the plan is not a projected columnar source:\n$plan")
    found.map { case (source, columns) =>
      source.executeColumnar().mapPartitions { batches =>
        // One reused double vector per cast column, filled batch by batch.
        val doubles = columns.map { case AsDouble(_, from) if from != DoubleType => new OnHeapColumnVector(4096, DoubleType); case _ => null }
        batches.map(batch => view(batch, columns, doubles))
      }
    }
  }

  /** The columnar source under `plan` and how each of `plan`'s output columns comes from it. */
  private def columnar(plan: SparkPlan): Option[(SparkPlan, Array[Source])] = plan match {
    case w: WholeStageCodegenExec => columnar(w.child)
    case a: InputAdapter => columnar(a.child)
    case ColumnarToRowExec(child) =>
      val source = unwrap(child)
      if (source.supportsColumnar) Some(source -> source.output.indices.map(i => Passed(i): Source).toArray) else None
    case ProjectExec(list, ColumnarToRowExec(child)) =>
      val source = unwrap(child)
      val ordinals = source.output.map(_.exprId).zipWithIndex.toMap
      val columns = list.map(e => sourceOf(e, ordinals))
      if (source.supportsColumnar && columns.forall(_.isDefined)) Some(source -> columns.map(_.get).toArray) else None
    case _ => None
  }

  private def unwrap(plan: SparkPlan): SparkPlan = plan match {
    case a: InputAdapter => unwrap(a.child)
    case p => p
  }

  private def sourceOf(e: Expression, ordinals: Map[org.apache.spark.sql.catalyst.expressions.ExprId, Int]): Option[Source] = e match {
    case Alias(child, _) => sourceOf(child, ordinals)
    case a: Attribute => ordinals.get(a.exprId).map(Passed)
    case c: Cast if c.dataType == DoubleType => c.child match {
      case a: Attribute if widens(a.dataType) => ordinals.get(a.exprId).map(AsDouble(_, a.dataType))
      case _ => None
    }
    case Literal(v, t) if v == null || constantTypes(t) => Some(Constant(v, t))
    case _ => None
  }

  private def widens(t: DataType): Boolean = t match {
    case ByteType | ShortType | IntegerType | LongType | FloatType | DoubleType | BooleanType => true
    case _ => false
  }

  private val constantTypes: DataType => Boolean = Set[DataType](BooleanType, IntegerType, LongType, DoubleType, StringType)

  private def view(batch: ColumnarBatch, columns: Array[Source], doubles: Array[OnHeapColumnVector]): ColumnarBatch = {
    val n = batch.numRows()
    val vectors: Array[ColumnVector] = columns.indices.map { c =>
      columns(c) match {
        case Passed(i) => batch.column(i)
        case AsDouble(i, DoubleType) => batch.column(i)
        case AsDouble(i, from) => castToDouble(batch.column(i), from, n, doubles(c))
        case Constant(v, t) => constant(v, t, n)
      }
    }.toArray
    new ColumnarBatch(vectors, n)
  }

  /** `in`'s first `n` values as doubles in `out`, converted as `Cast(_, DoubleType)` converts each one. */
  private def castToDouble(in: ColumnVector, from: DataType, n: Int, out: OnHeapColumnVector): ColumnVector = {
    out.reset()
    out.reserve(n)
    val read: Int => Double = from match {
      case ByteType => i => in.getByte(i).toDouble
      case ShortType => i => in.getShort(i).toDouble
      case IntegerType => i => in.getInt(i).toDouble
      case LongType => i => in.getLong(i).toDouble
      case FloatType => i => in.getFloat(i).toDouble
      case BooleanType => i => if (in.getBoolean(i)) 1.0 else 0.0
      case other => throw new IllegalStateException(s"no cast of $other to double here")
    }
    val nulls = in.hasNull
    var i = 0
    while (i < n) {
      if (nulls && in.isNullAt(i)) out.putNull(i) else out.putDouble(i, read(i))
      i += 1
    }
    out
  }

  private def constant(v: Any, t: DataType, rows: Int): ColumnVector = {
    val c = new ConstantColumnVector(math.max(1, rows), t)
    (v, t) match {
      case (null, _) => c.setNull()
      case (b: Boolean, BooleanType) => c.setBoolean(b)
      case (i: Int, IntegerType) => c.setInt(i)
      case (l: Long, LongType) => c.setLong(l)
      case (d: Double, DoubleType) => c.setDouble(d)
      case (s: UTF8String, StringType) => c.setUtf8String(s)
      case other => throw new IllegalStateException(s"no constant vector for literal $other")
    }
    c
  }
}

package org.sparkpolicy.train

import java.nio.file.Files

import org.apache.spark.sql.DataFrame
import org.apache.spark.sql.functions._
import org.apache.spark.sql.types._
import org.scalatest.funsuite.AnyFunSuite
import org.sparkpolicy.SparkTestSession
import org.sparkpolicy.bench.BenchSupport.deleteRecursively

/**
 * `ColumnarInput` reads a projected Parquet source as its column vectors with exactly the row path's
 * values (every numeric type cast to double, NaN, ±0.0, infinities, nulls, strings and literals), and
 * declines every plan it cannot read that way, so the caller reads rows.
 */
class ColumnarInputSuite extends AnyFunSuite with SparkTestSession {
  private lazy val dir = Files.createTempDirectory("sparkpolicy-columnar-input")

  override def afterAll(): Unit = try deleteRecursively(dir) finally super.afterAll()

  /** 3 Parquet files of typed columns, each value kind in every file. */
  private lazy val parquet: String = {
    val path = dir.resolve("typed").toString
    val id = col("id")
    val special = Seq(Double.NaN, -0.0, 0.0, Double.PositiveInfinity, Double.NegativeInfinity)
    val d = special.zipWithIndex.foldLeft(when(id % 17 === 0, lit(null).cast(DoubleType))) { case (acc, (v, i)) =>
      acc.when(id % 17 === i + 1, lit(v))
    }.otherwise(id / 7.0 - 300.0)
    spark.range(0, 5000, 1, 3).select(id, d.as("d"),
      when(id % 13 === 0, lit(null)).otherwise((id * 7919 % 1001 - 500).cast(IntegerType)).as("i"),
      // Longs beyond 2^53 round when cast to double: the view must round as Cast does.
      when(id % 11 === 0, lit(null)).otherwise(lit((1L << 53) + 1) * (id % 5 - 2) + id).as("l"),
      when(id % 9 === 0, lit(null)).otherwise((id / 3.0).cast(FloatType)).as("f"),
      (id % 7).cast(ShortType).as("sh"), (id % 5).cast(ByteType).as("by"),
      when(id % 8 === 0, lit(null)).otherwise(id % 3 === 0).as("b"),
      when(id % 6 === 0, lit(null)).otherwise(concat(lit("s"), (id % 4).cast(StringType))).as("s"))
      .write.parquet(path)
    path
  }

  private def viaRows(frame: DataFrame): Seq[Seq[Seq[Any]]] = {
    val schema = frame.schema
    import ColumnarInputSuite.cells
    frame.queryExecution.toRdd.mapPartitions(it => Iterator.single(it.map(cells(_, schema)).toVector)).collect().toSeq
  }

  private def viaVectors(frame: DataFrame): Seq[Seq[Seq[Any]]] = {
    val schema = frame.schema
    import ColumnarInputSuite.cells
    val batches = ColumnarInput.batches(frame).getOrElse(fail(s"not read as column vectors:\n${frame.queryExecution.executedPlan}"))
    batches.mapPartitions { it =>
      import scala.jdk.CollectionConverters._
      Iterator.single(it.flatMap(b => b.rowIterator().asScala.map(cells(_, schema))).toVector)
    }.collect().toSeq
  }

  test("a projection of columns, numeric-to-double casts and literals reads as the rows do, partition by partition") {
    def frameOf(df: DataFrame): DataFrame = df.select(col("d"), col("i").cast(DoubleType).as("i_d"), col("l").cast(DoubleType), col("f").cast(DoubleType),
      col("sh").cast(DoubleType), col("by").cast(DoubleType), col("b").cast(DoubleType), col("d").cast(DoubleType).as("d_again"),
      col("s"), col("i"), col("l"), lit(true).as("kept"), lit(null).cast(StringType).as("no_label"),
      lit(null).cast(DoubleType).as("no_y"), lit(2.5).as("two_and_a_half"))
    val df = spark.read.parquet(parquet)
    val frame = frameOf(df)
    val rows = viaRows(frame)
    assert(rows.map(_.size).sum == 5000 && rows.size == frame.rdd.getNumPartitions)
    def same(got: Seq[Seq[Seq[Any]]], what: String): Unit =
      assert(got == rows, s"$what: ${got.flatten.zip(rows.flatten).count { case (a, b) => a != b }} rows differ")
    same(viaVectors(frame), "4096-row batches")
    // Many batches per partition (the converted columns' vectors are reused from batch to batch).
    spark.conf.set("spark.sql.parquet.columnarReaderBatchSize", "97")
    try same(viaVectors(frameOf(spark.read.parquet(parquet))), "97-row batches")
    finally spark.conf.unset("spark.sql.parquet.columnarReaderBatchSize")
    // The special values are really there, in both readings.
    val ds = rows.flatten.map(_.head)
    assert(ds.contains(null) && ds.contains(java.lang.Double.doubleToRawLongBits(-0.0)) &&
      ds.contains(java.lang.Double.doubleToRawLongBits(Double.NaN)))
    // And so are longs no double holds (odd, beyond 2^53), which the cast rounds.
    assert(df.select("l").collect().exists(r => !r.isNullAt(0) && math.abs(r.getLong(0)) > (1L << 53) && r.getLong(0) % 2 != 0))
  }

  test("the source's columns in its own order, unprojected") {
    val df = spark.read.parquet(parquet).select("d", "l", "s")
    assert(viaVectors(df) == viaRows(df))
  }

  test("a filter, a computed column, a row source or the conf off: no column vectors (the caller reads rows)") {
    val df = spark.read.parquet(parquet)
    val declined = Seq(
      "filter" -> df.where(col("i") > 0).select(col("d")),
      "computed column" -> df.select((col("d") + 1.0).as("d1")),
      "string cast" -> df.select(col("i").cast(StringType)),
      "row source" -> spark.range(10).select(col("id").cast(DoubleType)))
    declined.foreach { case (what, frame) => assert(ColumnarInput.batches(frame).isEmpty, what) }
    spark.conf.set(ColumnarInput.Conf, "false")
    try assert(ColumnarInput.batches(df.select(col("d"))).isEmpty, "conf off")
    finally spark.conf.unset(ColumnarInput.Conf)
  }
}

object ColumnarInputSuite {
  /** Every value of `frame`, typed by its schema, with doubles as their bits (so -0.0 and NaN compare exactly). */
  def cells(row: org.apache.spark.sql.catalyst.InternalRow, schema: StructType): Seq[Any] =
    schema.fields.indices.map { i =>
      if (row.isNullAt(i)) null
      else schema(i).dataType match {
        case DoubleType => java.lang.Double.doubleToRawLongBits(row.getDouble(i))
        case LongType => row.getLong(i)
        case IntegerType => row.getInt(i)
        case BooleanType => row.getBoolean(i)
        case StringType => row.getUTF8String(i).toString
        case t => throw new IllegalArgumentException(s"unexpected type $t")
      }
    }
}

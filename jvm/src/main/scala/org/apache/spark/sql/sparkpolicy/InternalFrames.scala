package org.apache.spark.sql.sparkpolicy

import org.apache.spark.rdd.RDD
import org.apache.spark.sql.{DataFrame, SparkSession, classic}
import org.apache.spark.sql.catalyst.InternalRow
import org.apache.spark.sql.types.StructType

/**
 * The one place this library reaches into Spark's `private[sql]` API, which is why it lives in
 * Spark's package: a DataFrame over an RDD of Catalyst rows. Scoring stays in Catalyst's row
 * format end to end; the public `mapPartitions` path would deserialize every input column into a
 * `Row` and serialize every output `Row` back, which costs more than the native scoring itself.
 */
object InternalFrames {
  def fromInternalRows(spark: SparkSession, rows: RDD[InternalRow], schema: StructType): DataFrame =
    spark.asInstanceOf[classic.SparkSession].internalCreateDataFrame(rows, schema, isStreaming = false)
}

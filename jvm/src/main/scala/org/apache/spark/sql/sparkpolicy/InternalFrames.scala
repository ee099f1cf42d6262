package org.apache.spark.sql.sparkpolicy

import org.apache.spark.sql.{Column, DataFrame, SparkSession, classic}
import org.apache.spark.sql.catalyst.expressions.Expression
import org.apache.spark.sql.execution.SparkStrategy
import org.apache.spark.sql.catalyst.plans.logical.LogicalPlan
import org.apache.spark.sql.catalyst.rules.Rule

/**
 * The one place this library reaches into Spark's `private[sql]` API, which is why it lives in
 * Spark's package: a DataFrame over a logical plan node of our own (scoring), and one over Catalyst rows
 * computed on executors (AIPW Γ, `fromInternalRows`), and a Column over a Catalyst expression of our own
 * (`contract.PositionalHash`, through `column` and `expression`). Scoring as a plan node lets
 * Spark keep columnar scans columnar and make rows in its generated code; the public
 * `mapPartitions` path would deserialize every input column into a `Row` and serialize every
 * output `Row` back, which costs more than the native scoring itself.
 */
object InternalFrames {
  /**
   * `df`'s analyzed plan under `node`, planned by `strategy` and optimized with `rule`, both added
   * to the session's experimental extras once. Only that session knows them: a session that reads
   * such a plan from elsewhere (a global temporary view) needs them from `spark.sql.extensions`.
   */
  def withPlanNode(df: DataFrame, strategy: SparkStrategy, rules: Seq[Rule[LogicalPlan]])(node: LogicalPlan => LogicalPlan): DataFrame = {
    val session = df.sparkSession.asInstanceOf[classic.SparkSession]
    val experimental = session.experimental
    experimental.synchronized {
      if (!experimental.extraStrategies.contains(strategy)) experimental.extraStrategies = experimental.extraStrategies :+ strategy
      experimental.extraOptimizations = experimental.extraOptimizations ++ rules.filterNot(experimental.extraOptimizations.contains)
    }
    classic.Dataset.ofRows(session, node(df.asInstanceOf[classic.Dataset[_]].logicalPlan))
  }

  /**
   * A DataFrame over Catalyst rows computed on executors (`schema` their layout): no `Row` conversion
   * on either side, as Spark's own `Dataset.ofRows` over an RDD scan.
   */
  def fromInternalRows(spark: SparkSession, rows: org.apache.spark.rdd.RDD[org.apache.spark.sql.catalyst.InternalRow],
      schema: org.apache.spark.sql.types.StructType): DataFrame =
    spark.asInstanceOf[classic.SparkSession].internalCreateDataFrame(rows, schema)

  def hasStrategy(session: SparkSession, strategy: SparkStrategy): Boolean =
    session.asInstanceOf[classic.SparkSession].experimental.extraStrategies.contains(strategy)

  /** A Column over a Catalyst expression (`contract.PositionalHash`). */
  def column(e: Expression): Column = classic.ExpressionUtils.column(e)

  /** The Catalyst expression behind a Column, unresolved until its DataFrame is analyzed. */
  def expression(c: Column): Expression = classic.ExpressionUtils.expression(c)
}

package org.sparkpolicy.score

import org.apache.spark.sql.{DataFrame, Encoders, SparkSession}
import org.apache.spark.sql.catalyst.expressions.AttributeReference
import org.apache.spark.sql.functions.col
import org.apache.spark.sql.sparkpolicy.InternalFrames
import org.apache.spark.sql.types.{DoubleType, StringType, StructType}

private[sparkpolicy] object ScoringPlan {
  /**
   * `df` scored by `spec` (a tree or a forest), `outSchema` being `df`'s schema plus the four outputs: a
   * `PolicyScoring` plan node for a batch DataFrame, rows for a streaming one (which has no RDD to score).
   */
  def transform(df: DataFrame, featureCols: Seq[String], outSchema: StructType, spec: ScoringSpec): DataFrame =
    if (df.isStreaming) scoredStream(df, featureCols, spec, outSchema)
    else scored(df, featureCols, StructType(outSchema.fields.takeRight(4)), spec)

  /** `df` with the scoring outputs (`outputs`, the last fields of the output schema) appended by a `PolicyScoring` node. */
  def scored(df: DataFrame, featureCols: Seq[String], outputs: StructType, spec: ScoringSpec): DataFrame =
    InternalFrames.withPlanNode(df, PolicyScoringStrategy, Seq(PushFiltersBelowScoring, PruneForestLeaves)) { child =>
      val features = featureCols.map(c => child.output(df.schema.fieldIndex(c)))
      PolicyScoring(features, outputs.map(f => AttributeReference(f.name, f.dataType, f.nullable)()), spec, child)
    }

  /** A streaming plan is scored through Rows, with the features cast in SQL behind the user's columns. */
  private def scoredStream(df: DataFrame, featureCols: Seq[String], spec: ScoringSpec, outSchema: StructType): DataFrame = {
    val keep = df.columns.length
    val features = featureCols.zipWithIndex.map { case (c, i) =>
      col(SqlExpression.quote(c)).cast(if (spec.categories(i).isDefined) StringType else DoubleType).as(s"__sparkpolicy_x$i")
    }
    val withFeatures = df.select(df.columns.toSeq.map(c => df.col(SqlExpression.quote(c))) ++ features: _*)
    val featureIdx = Array.tabulate(featureCols.length)(keep + _)
    val cat = CategoricalInputs.of(spec, Nil)
    val (bc, vocabulary, batchRows) = (spec.payload, spec.vocabulary, spec.batchRows)
    withFeatures.mapPartitions(rows => PartitionScorer.score(rows, bc.value, vocabulary, featureIdx, keep, batchRows, cat))(
      Encoders.row(outSchema))
  }

  /** Whether `session` plans scoring nodes yet (tests). */
  def registered(session: SparkSession): Boolean = InternalFrames.hasStrategy(session, PolicyScoringStrategy)
}

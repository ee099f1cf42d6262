package org.sparkpolicy.score

import org.apache.spark.sql.{DataFrame, SparkSession}
import org.apache.spark.sql.catalyst.expressions.AttributeReference
import org.apache.spark.sql.sparkpolicy.InternalFrames
import org.apache.spark.sql.types.StructType

private[sparkpolicy] object ScoringPlan {
  /** `df` with the scoring outputs (`outputs`, the last fields of the output schema) appended by a `PolicyScoring` node. */
  def scored(df: DataFrame, featureCols: Seq[String], outputs: StructType, spec: ScoringSpec): DataFrame =
    InternalFrames.withPlanNode(df, PolicyScoringStrategy, PushFiltersBelowScoring) { child =>
      val features = featureCols.map(c => child.output(df.schema.fieldIndex(c)))
      PolicyScoring(features, outputs.map(f => AttributeReference(f.name, f.dataType, f.nullable)()), spec, child)
    }

  /** Whether `session` plans scoring nodes yet (tests). */
  def registered(session: SparkSession): Boolean = InternalFrames.hasStrategy(session, PolicyScoringStrategy)
}

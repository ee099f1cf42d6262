package org.sparkpolicy.ml

import org.apache.spark.SparkContext
import org.apache.spark.sql.{DataFrame, Dataset}
import org.apache.spark.sql.functions.{col, expr}
import org.apache.spark.sql.types.StructType
import org.apache.spark.util.LongAccumulator
import org.sparkpolicy.contract.Contract
import org.sparkpolicy.ml.model.PolicyOutputColumns
import org.sparkpolicy.score.SqlExpression
import org.sparkpolicy.train.TrainingData

/** What a tree's and a forest's `transform` share: the input check, the output schema, the SQL backend, the unseen-label counter. */
private[ml] object ModelTransform {
  /** `schema` checked against the contract (every feature present with its training type) plus the model's four outputs. */
  def schema(schema: StructType, featureCols: Array[String], contract: Contract, forest: Boolean): StructType = {
    TrainingData.validateFeatures(schema, featureCols)
    contract.features.foreach { f =>
      val actual = schema(f.name).dataType.simpleString
      if (actual != f.dataType)
        throw new IllegalArgumentException(s"feature column '${f.name}' has type $actual but the model's contract says ${f.dataType}; " +
          s"cast it to ${f.dataType} so scoring sees the same values as training")
    }
    outputSchema(schema, forest)
  }

  /** `schema` plus the four outputs (a forest's with `policy_leaves`); an input column of the same name is an error. */
  def outputSchema(schema: StructType, forest: Boolean): StructType = {
    val added = PolicyOutputColumns.fields(forest)
    added.foreach { c =>
      if (schema.fieldNames.contains(c.name)) throw new IllegalArgumentException(s"input already has a column named '${c.name}'; rename or drop it")
    }
    StructType(schema.fields ++ added)
  }

  /** `dataset` scored by the SQL `expression` (a struct of the four outputs): the input's columns, then the outputs. */
  def withSql(dataset: Dataset[_], expression: String, forest: Boolean): DataFrame = {
    val df = dataset.toDF()
    val tmp = "__sparkpolicy_sql"
    df.withColumn(tmp, expr(expression)).select(df.columns.map(c => df.col(SqlExpression.quote(c))).toSeq ++
      PolicyOutputColumns.fields(forest).map(f => col(s"$tmp.${f.name}").as(f.name)): _*)
  }

  /** A transform's counter of unseen categorical labels, or null when no scored feature is categorical. */
  def unseenCounter(sc: SparkContext, uid: String, categories: Array[Option[Array[String]]]): LongAccumulator =
    if (categories.forall(_.isEmpty)) null else sc.longAccumulator(s"sparkpolicy unseen categories ($uid)")
}

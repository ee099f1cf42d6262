package org.sparkpolicy.ml.model

import org.apache.spark.sql.types.{ArrayType, DataType, DoubleType, IntegerType, StringType, StructField}

/**
 * The four columns `transform` appends, named and typed once: the arm label, its vocabulary index,
 * the leaf's mean Γ per arm (vocabulary order) and the leaf's heap id (a forest: per arm the trees' mean,
 * and every tree's leaf). Every scorer, the SQL backend
 * and the output schema take their names and types from here.
 */
object PolicyOutputColumns {
  val Action = "policy_action"
  val ActionIndex = "policy_action_index"
  val Scores = "policy_scores"
  val Leaf = "policy_leaf"
  val All: Seq[String] = Seq(Action, ActionIndex, Scores, Leaf)
  /** A forest's fourth column instead of `Leaf`: each tree's leaf heap id, tree order. */
  val Leaves = "policy_leaves"
  val ForestAll: Seq[String] = Seq(Action, ActionIndex, Scores, Leaves)

  val ScoresType: DataType = ArrayType(DoubleType, containsNull = false)
  /** The columns as appended, in order, none nullable. */
  val Fields: Seq[StructField] = Seq(StructField(Action, StringType, nullable = false),
    StructField(ActionIndex, IntegerType, nullable = false), StructField(Scores, ScoresType, nullable = false),
    StructField(Leaf, IntegerType, nullable = false))
  val LeavesType: DataType = ArrayType(IntegerType, containsNull = false)
  val ForestFields: Seq[StructField] = Fields.take(3) :+ StructField(Leaves, LeavesType, nullable = false)

  /** The appended columns of a tree's transform, or a forest's. */
  def fields(forest: Boolean): Seq[StructField] = if (forest) ForestFields else Fields
}

package org.sparkpolicy.score

import org.sparkpolicy.ml.model.NodeTable

/**
 * The node table as one Spark SQL expression: a second, pure-JVM scoring backend that must agree
 * bit for bit with the native scorer, for places where native code cannot run (Spark Connect
 * clients, SQL warehouses). The expression yields a struct (policy_action, policy_action_index,
 * policy_scores, policy_leaf): the leaf id is computed once by nested CASE WHENs (each subtree
 * appears once, so the text grows linearly with the tree) and looked up in a map of leaf outputs.
 * Doubles are written in their shortest round-trip form, so literals parse to the same bits.
 * A forest's expression (`forest`) yields (policy_action, policy_action_index, policy_scores, policy_leaves).
 */
private[sparkpolicy] object SqlExpression {

  def quote(name: String): String = "`" + name.replace("`", "``") + "`"

  def string(s: String): String = "'" + s.replace("\\", "\\\\").replace("'", "\\'") + "'"

  def double(d: Double): String =
    if (d.isNaN) "CAST('NaN' AS DOUBLE)"
    else if (d.isInfinite) (if (d > 0) "CAST('Infinity' AS DOUBLE)" else "CAST('-Infinity' AS DOUBLE)")
    else java.lang.Double.toString(d) + "D"

  private def leafId(table: NodeTable, featureNames: Seq[String], categories: Int => Option[Seq[String]], id: Int): String = {
    val n = table.byId(id)
    if (n.isLeaf) id.toString
    else {
      val column = quote(featureNames(n.feature))
      val (missing, test) = categories(n.feature) match {
        case Some(labels) =>
          // The label's code (0-based; −1 when unseen in training, which is scored as missing, as natively).
          val list = labels.map(string).mkString("CAST(array(", ", ", ") AS ARRAY<STRING>)")
          val code = s"(array_position($list, CAST($column AS STRING)) - 1)"
          val cmp = if (n.categorical) s"$code = ${n.threshold.toLong}" else s"CAST($code AS DOUBLE) <= ${double(n.threshold)}"
          (s"($code IS NULL OR $code < 0)", cmp)
        case None =>
          val x = s"CAST($column AS DOUBLE)"
          (s"($x IS NULL OR isnan($x))", s"$x <= ${double(n.threshold)}")
      }
      val left = if (n.missingLeft) s"($missing OR $test)" else s"(NOT $missing AND $test)"
      s"CASE WHEN $left THEN ${leafId(table, featureNames, categories, 2 * id)} " +
        s"ELSE ${leafId(table, featureNames, categories, 2 * id + 1)} END"
    }
  }

  /** `categories(f)`: the labels of categorical feature f in code order (None for numeric features). */
  def of(table: NodeTable, featureNames: Seq[String], vocabulary: Seq[String],
      categories: Int => Option[Seq[String]] = _ => None): String = {
    val outputs = table.leaves.sortBy(_.id).map { l =>
      val scores = l.values.map(double).mkString("array(", ", ", ")")
      s"${l.id}, named_struct('policy_action', ${string(vocabulary(l.arm))}, 'policy_action_index', ${l.arm}, " +
        s"'policy_scores', $scores, 'policy_leaf', ${l.id})"
    }
    s"element_at(map(${outputs.mkString(", ")}), ${leafId(table, featureNames, categories, 1)})"
  }

  /**
   * Most nodes a forest's expression may hold: past this the text (about 150 characters a node) and
   * Spark's parsing and planning of it grow large enough that `transform` is the way to score.
   */
  val MaxForestNodes = 20000

  /**
   * A forest as one expression, the same rule as `ForestVote`: each tree's leaf id by its nested CASE
   * WHENs, bound once as the lambda variable `ls` (a one-element `transform`, Spark SQL having no `let`);
   * per arm `(((0.0D + v_0) + v_1) + …) / T` with v_t tree t's leaf value (`+` on doubles is IEEE and
   * left-associative in Spark, never reordered), then the first arm of the largest score.
   */
  def forest(tables: Seq[NodeTable], featureNames: Seq[String], vocabulary: Seq[String],
      categories: Int => Option[Seq[String]] = _ => None): String = {
    val nodes = tables.map(_.nodes.size).sum
    if (nodes > MaxForestNodes)
      throw new IllegalArgumentException(s"the forest has $nodes nodes; its SQL expression is limited to $MaxForestNodes " +
        "(numTrees × nodes per tree): score it with transform, or learn fewer or shallower trees (numTrees, maxDepth)")
    val leaves = tables.map(t => leafId(t, featureNames, categories, 1)).mkString("array(", ", ", ")")
    def values(t: Int): String = tables(t).leaves.sortBy(_.id)
      .map(l => s"${l.id}, ${l.values.map(double).mkString("array(", ", ", ")")}").mkString("map(", ", ", ")")
    val sum = tables.indices.foldLeft("0.0D")((acc, t) => s"($acc + element_at(element_at(${values(t)}, ls[$t]), a + 1))")
    val scores = s"transform(sequence(0, ${vocabulary.size - 1}), a -> $sum / ${tables.size})"
    val labels = vocabulary.map(string).mkString("array(", ", ", ")")
    val out = "named_struct('policy_action', element_at(" + labels + ", CAST(array_position(s, array_max(s)) AS INT)), " +
      "'policy_action_index', CAST(array_position(s, array_max(s)) - 1 AS INT), 'policy_scores', s, 'policy_leaves', ls)"
    s"element_at(transform(array($leaves), ls -> element_at(transform(array($scores), s -> $out), 1)), 1)"
  }
}

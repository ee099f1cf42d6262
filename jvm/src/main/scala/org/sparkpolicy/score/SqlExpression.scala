package org.sparkpolicy.score

import org.sparkpolicy.ml.model.NodeTable



/**
 * The node table as one Spark SQL expression: a second, pure-JVM scoring backend that must agree
 * bit for bit with the native scorer, for places where native code cannot run (Spark Connect
 * clients, SQL warehouses). The expression yields a struct (policy_action, policy_action_index,
 * policy_scores, policy_leaf): the leaf id is computed once by nested CASE WHENs (each subtree
 * appears once, so the text grows linearly with the tree) and looked up in a map of leaf outputs.
 * Doubles are written in their shortest round-trip form, so literals parse to the same bits.
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
}

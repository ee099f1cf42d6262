package org.sparkpolicy.score

import org.apache.spark.sql.Row
import org.sparkpolicy.ml.model.{ForestVote, NodeTable}

/**
 * A forest scored row by row in the JVM: each feature read as the contract reads it (a double, NaN for
 * null; a categorical label as its code, unseen or null as missing), every tree walked (`NodeTable.leafOf`),
 * and `ForestVote`'s scores and action appended with each tree's leaf. The forest's first scorer, before
 * the native one; its results define the forest's output signature.
 */
private[sparkpolicy] final class ForestRows(trees: IndexedSeq[NodeTable], vocabulary: Array[String],
    categories: Array[Option[Array[String]]]) extends Serializable {
  private val codes: Array[Map[String, Int]] = categories.map(_.map(_.zipWithIndex.toMap).getOrElse(Map.empty))

  /** Rows holding the user's `keep` columns, then the features (double, or string when categorical). */
  def score(rows: Iterator[Row], keep: Int): Iterator[Row] = {
    val nFeatures = categories.length
    val x = new Array[Double](nFeatures)
    rows.map { r =>
      var f = 0
      while (f < nFeatures) {
        val i = keep + f
        x(f) =
          if (r.isNullAt(i)) Double.NaN
          else if (categories(f).isDefined) codes(f).get(r.getString(i)).map(_.toDouble).getOrElse(Double.NaN)
          else r.getDouble(i)
        f += 1
      }
      val leaves = trees.map(_.leafOf(x(_)))
      val scores = ForestVote.scores(trees, leaves)
      val action = ForestVote.action(scores)
      Row.fromSeq(r.toSeq.take(keep) ++ Seq(vocabulary(action), action, scores.toSeq, leaves.map(_.id)))
    }
  }
}

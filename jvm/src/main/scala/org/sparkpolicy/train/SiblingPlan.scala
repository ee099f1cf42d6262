package org.sparkpolicy.train

/**
 * Sibling subtraction for one level (LightGBM's and XGBoost `hist`'s trick): of each split parent's two
 * children the kernel histograms only the one with fewer rows, and the other is the parent's merged
 * histogram minus it, cell for cell. The sums are exact integers, so the derived histogram has the bits a
 * full build gives. The row counts are the parent's winning split record's left and right, after refinement
 * (the grower's totals), so the choice of the smaller child is the same in any layout.
 */
private[sparkpolicy] final case class SiblingPlan(pairs: Vector[SiblingPlan.Pair]) {
  /** The nodes the kernel histograms, ascending: each pair's smaller child, searched or not. */
  val built: Array[Int] = pairs.map(_.small).sorted.toArray
  private val byParent: Map[Int, SiblingPlan.Pair] = pairs.map(p => p.parent -> p).toMap

  /** Frontier nodes whose histogram is derived rather than built. */
  def derived: Int = pairs.count(_.searchLarge)

  def parents: Set[Int] = byParent.keySet

  /**
   * The frontier nodes' merged histograms of one (parent, feature block): the smaller child's as merged
   * (absent when no partition had a row of it: then it has no record, as in a full build, and its sibling
   * is the whole parent), and the larger child's as the parent's minus it, in a new array (the parent's is
   * a cached block).
   */
  def derive(parent: Int, small: Option[Array[Long]], parentHist: Array[Long]): Seq[(Int, Array[Long])] = {
    val p = byParent(parent)
    val own = if (p.searchSmall) small.map(p.small -> _).toSeq else Nil
    val sibling = if (!p.searchLarge) Nil else {
      val large = parentHist.clone()
      small.foreach { s =>
        require(s.length == large.length, s"node ${p.small}'s histogram has ${s.length} cells, its parent's ${large.length}")
        var i = 0
        while (i < large.length) { large(i) -= s(i); i += 1 }
      }
      Seq(p.large -> large)
    }
    own ++ sibling
  }
}

private[sparkpolicy] object SiblingPlan {
  /**
   * `small` is the child the kernel histograms (fewer rows; the left one on a tie), `large` its sibling;
   * either may be outside the frontier (a child too small to split, or at maxDepth) but the small one is
   * built whenever the pair has a frontier child, since it costs the fewest rows.
   */
  final case class Pair(parent: Int, small: Int, large: Int, searchSmall: Boolean, searchLarge: Boolean)

  /** The plan for a frontier grown from the previous level's splits; `rowsOf` is a grown node's row count. */
  def apply(frontier: Array[Int], rowsOf: Int => Long): SiblingPlan = {
    val searched = frontier.toSet
    SiblingPlan(frontier.map(_ / 2).distinct.sorted.toVector.map { parent =>
      val (left, right) = (2 * parent, 2 * parent + 1)
      val (small, large) = if (rowsOf(right) < rowsOf(left)) (right, left) else (left, right)
      Pair(parent, small, large, searched(small), searched(large))
    })
  }
}

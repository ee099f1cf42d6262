package org.sparkpolicy.train

/** A search grid's codes: block (fine) codes per feature and each feature's coarse cuts. */
private[sparkpolicy] final case class GridCodes(fineCodes: Array[Int], cuts: Array[Option[Array[Int]]]) {
  /** Histogram codes per feature: coarse value bins plus the missing code where the feature has cuts. */
  val histCodes: Array[Int] = Array.tabulate(fineCodes.length)(f => cuts(f).map(_.length + 2).getOrElse(fineCodes(f)))

  def isCoarse: Boolean = cuts.exists(_.isDefined)

  /** Per feature of `f0 until f1`: its histogram carries bound cells when `bounds` is on (a coarse feature). */
  def bounded(f0: Int, f1: Int, bounds: Boolean): Seq[Boolean] = (f0 until f1).map(f => bounds && cuts(f).isDefined)

  /**
   * Codes per feature as `LevelPlan` budgets them: with `bounds`, a coarse feature's c codes hold
   * c·(K+1) + (c−1)·K cells, below 2c codes' worth.
   */
  def planCodes(bounds: Boolean): Array[Int] = Array.tabulate(fineCodes.length)(f => if (bounds && cuts(f).isDefined) 2 * histCodes(f) else histCodes(f))

  /** Features `f0 until f1`'s cuts as a native config lists them (empty when no feature is coarse). */
  def cutsOf(f0: Int, f1: Int): Seq[Option[Seq[Int]]] = if (!isCoarse) Nil else cuts.slice(f0, f1).toSeq.map(_.map(_.toSeq))
}

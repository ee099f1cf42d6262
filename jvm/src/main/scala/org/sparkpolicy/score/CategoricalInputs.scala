package org.sparkpolicy.score

import org.apache.spark.sql.catalyst.expressions.Expression
import org.apache.spark.util.LongAccumulator

/**
 * The categorical features of a transform: `slot(f)` is feature f's index among them (−1: numeric),
 * `labels` their label expressions (string, or Spark's cast to string) bound to the input row, `codes`
 * their category codes. Unseen labels are scored as missing and added to `unseen`.
 */
private[sparkpolicy] final case class CategoricalInputs(slot: Array[Int], labels: Seq[Expression], codes: Array[CategoryCodes],
    unseen: LongAccumulator) {
  def isEmpty: Boolean = codes.isEmpty
}

private[sparkpolicy] object CategoricalInputs {
  val Empty: CategoricalInputs = CategoricalInputs(Array.empty, Nil, Array.empty, null)

  /** The categorical features of `spec` (none: `Empty`), their labels read by `labels` (in feature order). */
  def of(spec: ScoringSpec, labels: Seq[Expression]): CategoricalInputs = if (!spec.hasCategorical) Empty else {
    val slot = spec.categories.scanLeft(0)((k, c) => if (c.isDefined) k + 1 else k).zip(spec.categories).map {
      case (k, c) => if (c.isDefined) k else -1
    }
    CategoricalInputs(slot, labels, spec.categories.flatten.map(new CategoryCodes(_)), spec.unseen)
  }
}

package org.sparkpolicy.ml.model

/**
 * One node of a policy tree, in heap numbering (root 1, children 2k and 2k+1). Split nodes send
 * `x <= threshold` left (`categorical`: `x == threshold`, x being the category's code) and missing
 * values to `missingLeft`; leaves carry the arm and the mean Γ per arm (`values`). `thresholdBin`
 * is the same split on bin codes, used while training.
 */
final case class TreeNode(
    id: Int,
    isLeaf: Boolean,
    feature: Int,
    threshold: Double,
    thresholdBin: Int,
    missingLeft: Boolean,
    arm: Int,
    count: Long,
    values: Vector[Double],
    categorical: Boolean = false)

object TreeNode {
  /** The depth of heap id `id` (root 1 at depth 0; children 2k and 2k + 1 one deeper). */
  def depthOf(id: Int): Int = 31 - Integer.numberOfLeadingZeros(id)
}

package org.sparkpolicy.bridge

/**
 * What a scoring task needs of a model; broadcast once per transform. `modelIpc` is the tree's node table
 * or, for a forest of `nTrees`, one node table per tree (`NodeTableIpc.encodeAll`).
 */
private[sparkpolicy] final case class ScoringPayload(modelIpc: Array[Byte], contentHash: String, nFeatures: Int, nArms: Int,
    nTrees: Int = 0) {
  /** A forest (`nTrees` ≥ 1 node tables) rather than one tree (`nTrees` 0). */
  def forest: Boolean = nTrees > 0

  /** The same model compiled for another number of feature columns is another scorer. */
  def cacheKey: String = s"${if (forest) "forest" else "tree"}/$contentHash/$nFeatures/$nArms"
}

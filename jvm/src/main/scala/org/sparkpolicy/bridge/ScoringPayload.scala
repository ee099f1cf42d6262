package org.sparkpolicy.bridge

/** What a scoring task needs of a model; broadcast once per transform. */
private[sparkpolicy] final case class ScoringPayload(treeIpc: Array[Byte], contentHash: String, nFeatures: Int, nArms: Int) {
  /** The same tree compiled for another number of feature columns is another scorer. */
  def cacheKey: String = s"$contentHash/$nFeatures/$nArms"
}

package org.sparkpolicy.rewards

import org.sparkpolicy.ml.model.NodeTable

/** AIPW scores of rows held in this JVM, with the trees that produced them and the number of clipped propensities. */
private[sparkpolicy] final case class InProcessScores(gamma: Array[Array[Double]], trees: Array[NodeTable], clipped: Long)

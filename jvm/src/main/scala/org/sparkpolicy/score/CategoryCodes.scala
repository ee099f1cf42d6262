package org.sparkpolicy.score

import org.apache.spark.unsafe.types.UTF8String

/**
 * Label → code of one categorical feature at scoring. The hash map is built on first use, once per
 * deserialized copy (once per executor for a broadcast payload); labels it does not hold are unseen (−1).
 */
private[sparkpolicy] final class CategoryCodes(val labels: Array[String]) extends Serializable {
  @transient private lazy val byLabel: java.util.HashMap[UTF8String, Integer] = {
    val m = new java.util.HashMap[UTF8String, Integer](labels.length * 2)
    labels.indices.foreach(i => m.put(UTF8String.fromString(labels(i)), i))
    m
  }

  def code(label: UTF8String): Int = { val c = byLabel.get(label); if (c == null) -1 else c.intValue }

  def code(label: String): Int = code(UTF8String.fromString(label))
}

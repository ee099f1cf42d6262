package org.sparkpolicy.train

/** The largest value any task reported: order-independent, so safe under retries and speculation. */
private[sparkpolicy] final class MaxAccumulator extends org.apache.spark.util.AccumulatorV2[Long, Long] {
  private var max = 0L
  override def isZero: Boolean = max == 0L
  override def copy(): MaxAccumulator = { val c = new MaxAccumulator; c.max = max; c }
  override def reset(): Unit = max = 0L
  override def add(v: Long): Unit = max = math.max(max, v)
  override def merge(other: org.apache.spark.util.AccumulatorV2[Long, Long]): Unit = add(other.value)
  override def value: Long = max
}

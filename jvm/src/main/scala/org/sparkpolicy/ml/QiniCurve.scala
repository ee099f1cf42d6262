package org.sparkpolicy.ml

import java.math.{BigDecimal => JBigDecimal}

/** A curve's points: n rows targeted (x) and the Qini value (y), starting at the origin. */
final case class QiniCurve(n: Array[Long], qini: Array[Double]) {
  /** Trapezoid area (sklearn's `auc`), each term as numpy forms it, summed exactly and rounded once. */
  def area: Double = {
    var s = JBigDecimal.ZERO
    var i = 1
    while (i < n.length) {
      s = s.add(new JBigDecimal((n(i) - n(i - 1)).toDouble * (qini(i) + qini(i - 1)) / 2.0))
      i += 1
    }
    s.doubleValue
  }
}

package org.sparkpolicy.train

import java.nio.charset.StandardCharsets

/** Helpers shared by the input checks of a fit: the one error type users see, and the label order. */
private[sparkpolicy] object BadInput {
  /** Fails the fit with a message that names the column, value or Param at fault. */
  def fail(msg: String): Nothing = throw new IllegalArgumentException(msg)

  /** The order of string labels (treatment vocabulary, categories): by UTF-8 bytes, unsigned, as Spark sorts strings. */
  def utf8Less(a: String, b: String): Boolean =
    java.util.Arrays.compareUnsigned(a.getBytes(StandardCharsets.UTF_8), b.getBytes(StandardCharsets.UTF_8)) < 0
}

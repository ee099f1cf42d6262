package org.sparkpolicy.contract

/**
 * One feature of the contract: its column, Spark type, kind (`numeric` or `categorical`) and
 * missing-value policy; a categorical feature's `categories` are its labels in code order (code i =
 * `categories(i)`), part of the manifest and so of its signature.
 */
final case class FeatureSpec(name: String, dataType: String, kind: String, missing: String, categories: Option[Seq[String]] = None) {
  def isCategorical: Boolean = categories.isDefined
}

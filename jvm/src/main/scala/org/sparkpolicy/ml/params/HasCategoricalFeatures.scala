package org.sparkpolicy.ml.params

import org.apache.spark.ml.param._

/** Which features are categorical, and optionally their category order; read by the learner (a model keeps them in its contract). */
trait HasCategoricalFeatures[S] extends Params { self: S =>
  final val categoricalCols: StringArrayParam = new StringArrayParam(this, "categoricalCols",
    "feature columns to treat as categorical (a subset of featureCols); string features are categorical anyway, and a numeric " +
      "column listed here is coded by its value as a string")
  final val categoryOrders: Param[String] = new Param[String](this, "categoryOrders",
    "optional JSON object {column: [label, ...]} fixing a categorical feature's category codes (code i = label i); default: " +
      "the observed labels sorted by UTF-8 bytes", (v: String) => scala.util.Try(HasCategoricalFeatures.parseOrders(v)).isSuccess)
  setDefault(categoryOrders -> "{}")

  final def getCategoricalCols: Array[String] = get(categoricalCols).getOrElse(Array.empty)
  final def getCategoryOrders: String = $(categoryOrders)
  final def getCategoryOrdersMap: Map[String, Array[String]] = HasCategoricalFeatures.parseOrders($(categoryOrders))

  final def setCategoricalCols(value: Array[String]): S = set(categoricalCols, value)
  /** Category labels in code order per categorical feature, as JSON `{"column": ["label", ...]}`. */
  final def setCategoryOrders(value: String): S = set(categoryOrders, value)
  /** Category labels in code order per categorical feature. */
  final def setCategoryOrders(value: Map[String, Array[String]]): S = set(categoryOrders, HasCategoricalFeatures.ordersJson(value))
}

object HasCategoricalFeatures {
  private[sparkpolicy] def parseOrders(json: String): Map[String, Array[String]] = {
    implicit val formats: org.json4s.Formats = org.json4s.DefaultFormats
    org.json4s.jackson.JsonMethods.parse(json).extract[Map[String, List[String]]].map { case (k, v) => k -> v.toArray }
  }

  private[sparkpolicy] def ordersJson(orders: Map[String, Array[String]]): String = {
    import org.json4s._
    org.json4s.jackson.JsonMethods.compact(org.json4s.jackson.JsonMethods.render(
      JObject(orders.toList.sortBy(_._1).map { case (k, v) => k -> JArray(v.toList.map(JString(_))) })))
  }
}

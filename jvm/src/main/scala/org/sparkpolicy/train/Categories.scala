package org.sparkpolicy.train

import org.apache.spark.sql.Column
import org.apache.spark.sql.functions._
import org.apache.spark.sql.types._
import org.sparkpolicy.train.BadInput.{fail, utf8Less}

/**
 * Categorical features: string columns, and any feature listed in `categoricalCols` (a numeric one by
 * its value's string form, as Spark casts it). Each distinct label gets a code, its index in the
 * feature's category list: given by `categoryOrders`, else the observed labels sorted by UTF-8 bytes
 * (gathered by the validation pass, so the same in any layout). The codes are the feature's
 * edges, so every category is its own bin, and splits are one category vs the rest.
 */
private[sparkpolicy] object Categories {
  /** Codes plus the missing code must fit the u16 codes of a training block (as for boundaries). */
  val MaxCategories = 65534


  def isCategorical(field: StructField, categoricalCols: Array[String]): Boolean =
    field.dataType == StringType || categoricalCols.contains(field.name)

  /** The label a value is coded by: the string itself, or the value cast to string. */
  def label(c: Column, dataType: DataType): Column = if (dataType == StringType) c else c.cast(StringType)

  /**
   * The label's code as a double; null when the label is null or not a category (unseen). A hash lookup
   * (one map per task), not `array_position`, whose linear scan per row is slow for thousands of categories.
   */
  def code(label: Column, categories: Seq[String]): Column = {
    val codes = new java.util.HashMap[String, java.lang.Double](categories.length * 2)
    categories.indices.foreach(i => codes.put(categories(i), i.toDouble))
    val lookup = udf((s: String) => if (s == null) null else codes.get(s))
    lookup(label)
  }

  /**
   * Category lists per feature (None for numeric ones), checked against the labels the validation pass saw
   * (`summary`): each feature's observed labels, or, with a given order, the smallest label outside it.
   */
  def resolve(schema: StructType, featureCols: Array[String], categoricalCols: Array[String], orders: Map[String, Array[String]],
      summary: InputSummary): Array[Option[Array[String]]] = {
    orders.keys.toSeq.sorted.foreach { c =>
      if (!featureCols.contains(c) || !isCategorical(schema(c), categoricalCols))
        fail(s"categoryOrders names column '$c', which is not a categorical feature (a string feature or one in categoricalCols)")
    }
    featureCols.zipWithIndex.map { case (c, f) =>
      if (!isCategorical(schema(c), categoricalCols)) None
      else {
        val categories = orders.get(c) match {
          case Some(given) =>
            val dup = given.diff(given.distinct)
            if (dup.nonEmpty) fail(s"categoryOrders for column '$c' lists '${dup.head}' more than once")
            // A label outside the given order would silently become missing: refuse it, naming it.
            Option(summary.unknownCategory(f)).foreach(v => fail(s"categorical column '$c' has value '$v', which is not in its " +
              s"categoryOrders [${given.take(10).mkString(", ")}${if (given.length > 10) ", …" else ""}]"))
            given
          case None => summary.categoryLabels(f).sortWith(utf8Less)
        }
        if (categories.length > MaxCategories || (orders.get(c).isEmpty && summary.tooManyCategories(f)))
          fail(s"categorical column '$c' has more than $MaxCategories categories (the limit of one feature's codes); " +
            "bucket rare values first or treat the column as numeric")
        Some(categories)
      }
    }
  }

  /**
   * The edges of categorical features are their codes 0 … n−1 (every category its own bin; nothing lies
   * above the last code, which keeps bin n free for "missing vs the rest"). Locked boundaries of a
   * categorical feature must be exactly those codes.
   */
  def withCodeEdges(edges: Array[Array[Double]], categories: Array[Option[Array[String]]], featureCols: Array[String],
      locked: Boolean): Array[Array[Double]] =
    edges.indices.map { f =>
      categories(f) match {
        case None => edges(f)
        case Some(labels) =>
          val codes = Array.tabulate(labels.length)(_.toDouble)
          if (locked && !java.util.Arrays.equals(codes, edges(f)))
            fail(s"locked boundaries of categorical feature '${featureCols(f)}' must be its category codes 0 to ${labels.length - 1}")
          codes
      }
    }.toArray
}

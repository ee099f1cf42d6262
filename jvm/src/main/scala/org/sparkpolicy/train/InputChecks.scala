package org.sparkpolicy.train

import org.apache.spark.sql.{Column, DataFrame}
import org.apache.spark.sql.functions._
import org.apache.spark.sql.types.{ByteType, IntegerType, LongType, ShortType, StringType, StructType}
import org.sparkpolicy.train.BadInput.{fail, utf8Less}
import org.sparkpolicy.train.TrainingData.{column, userCol}

/** The reward aggregates the kernels need: max |Γ| per arm (or reward column) and the mean |Γ|. */
private[sparkpolicy] final case class RewardStats(maxAbs: Seq[Double], meanAbs: Double)

/**
 * `TrainingData.prepare`'s data checks that need more than a count, decided from the validation pass's
 * summary (`InputSummary`) with the messages and in the order the separate passes used to.
 */
private[sparkpolicy] object InputChecks {
  /**
   * The treatment vocabulary: given, or the observed labels (integers sorted numerically,
   * strings by UTF-8 bytes), or the reward column names. Labels are strings from here on.
   */
  def vocabulary(summary: InputSummary, spec: InputSpec, schema: StructType): (Array[String], Map[String, Long], Option[Column]) =
    spec.treatmentCol match {
      case None =>
        val v = spec.vocabulary.getOrElse(spec.rewardCols.get)
        val dup = v.diff(v.distinct)
        if (dup.nonEmpty) fail(s"treatmentVocabulary lists '${dup.head}' more than once")
        (v, Map.empty, None)
      case Some(t) =>
        val integral = column(schema, "treatmentCol", t).dataType match {
          case ByteType | ShortType | IntegerType | LongType => true
          case _ => false
        }
        if (summary.tooManyLabels)
          fail(s"treatment column '$t' has more than ${TrainingData.MaxArms} distinct labels; is it really the treatment?")
        if (summary.nullLabels > 0)
          fail(s"treatment column '$t' has ${summary.nullLabels} null values (set handleInvalid to 'skip' to drop those rows)")
        val observed = summary.labelCounts
        val vocabulary = spec.vocabulary match {
          case Some(v) =>
            val dup = v.diff(v.distinct)
            if (dup.nonEmpty) fail(s"treatmentVocabulary lists '${dup.head}' more than once")
            val unknown = observed.keys.filterNot(v.contains).toSeq.sorted
            if (unknown.nonEmpty)
              fail(s"treatment column '$t' has label '${unknown.head}' (${observed(unknown.head)} rows) that is not in " +
                s"treatmentVocabulary [${v.mkString(", ")}]" + (if (unknown.size > 1) s"; also ${unknown.tail.mkString(", ")}" else ""))
            v
          case None if integral => observed.keys.toArray.sortBy(_.toLong)
          case None => observed.keys.toArray.sortWith(utf8Less)
        }
        (vocabulary, observed, Some(userCol(t).cast(StringType)))
    }

  /**
   * max |Γ| per arm and the mean |Γ|, as the SQL aggregates over the Γ columns gave them: given rewards
   * directly; IPW Γ_a = y / e on arm a's rows (0 elsewhere), so max |Γ_a| is max |y| over those rows divided
   * by the arm's share (division by a positive constant keeps the order, so the bits are the same), or
   * max |y / p| with given propensities (the same bound for every arm, all of which a row's label names).
   * The mean only sets off a warning; its float sum follows the pass's order.
   */
  def rewards(summary: InputSummary, rewardType: String, vocabulary: Array[String], armCounts: Map[String, Long],
      givenPropensity: Boolean): RewardStats = {
    val n = summary.rows.toDouble
    rewardType match {
      case "given" =>
        RewardStats(summary.maxAbsGiven.toSeq, if (summary.rows == 0) 0.0 else summary.sumMeanAbsGiven / n)
      case "ipw" if givenPropensity =>
        RewardStats(vocabulary.toSeq.map(_ => summary.maxAbsYOverP), if (summary.rows == 0) 0.0 else summary.sumAbsYOverP / vocabulary.length / n)
      case "ipw" =>
        val total = armCounts.values.sum.toDouble
        val perArm = vocabulary.toSeq.map { arm =>
          val e = armCounts.getOrElse(arm, 0L) / total
          summary.label(arm).map(s => (s.maxAbsY / e, s.sumAbsY / e)).getOrElse((0.0, 0.0))
        }
        RewardStats(perArm.map(_._1), if (summary.rows == 0) 0.0 else perArm.map(_._2).sum / vocabulary.length / n)
      case _ => RewardStats(Nil, 0.0)
    }
  }

  /** Rows of `df` whose Γ `g` is null, NaN or infinite: the exact count for the error message. */
  def countBad(df: DataFrame, g: Column): Long = {
    val r = df.agg(sum(when(g.isNull || isnan(g) || abs(g) === lit(Double.PositiveInfinity), 1L).otherwise(0L)).cast(LongType)).head()
    if (r.isNullAt(0)) 0L else r.getLong(0)
  }
}

package org.sparkpolicy.ml

import java.math.{BigDecimal => JBigDecimal, MathContext}
import org.apache.spark.ml.evaluation.Evaluator
import org.apache.spark.ml.param._
import org.apache.spark.ml.util.{DefaultParamsReadable, DefaultParamsWritable, Identifiable}
import org.apache.spark.sql.{Column, DataFrame, Dataset, Row}
import org.apache.spark.sql.functions._
import org.apache.spark.sql.types._
import org.sparkpolicy.bridge.FixedPoint
import org.sparkpolicy.ml.model.PolicyOutputColumns
import org.sparkpolicy.train.TrainingData

/**
 * Honest policy value on rows not used for fitting: V̂(π) = mean Γᵢ(π(Xᵢ)) with standard error
 * sd/√n, every constant-arm policy's value, and paired differences (π − best arm, π − baseline)
 * with standard errors and 95% intervals. The "best arm" is the one chosen on the training data
 * (`model.bestArmOnTraining`), never on the holdout, to avoid the winner's curse.
 *
 * Sums are exact: each Γ is rounded once to a multiple of 2^-shift (shift from the holdout's row count
 * and max |Γ|, as in training) and summed as integers and decimal squares, so the same holdout gives
 * bit-identical results in any layout.
 */
class PolicyValueEvaluator(override val uid: String) extends Evaluator with DefaultParamsWritable {
  def this() = this(Identifiable.randomUID("policyValueEvaluator"))

  final val rewardsCol = new Param[String](this, "rewardsCol", "array<double> column of Γ per arm, vocabulary order")
  final val rewardCols = new StringArrayParam(this, "rewardCols", "one Γ column per arm, vocabulary order (instead of rewardsCol)")
  final val predictionCol = new Param[String](this, "predictionCol", "the policy's arm index column")
  final val treatmentVocabulary = new StringArrayParam(this, "treatmentVocabulary", "arm labels, to name arms in the summary")
  final val bestArm = new Param[String](this, "bestArm", "the best constant arm chosen on the training data (label or index)")
  final val baselineArm = new Param[String](this, "baselineArm", "the arm to compare with, e.g. the control (label or index)")
  final val metricName = new Param[String](this, "metricName", "policyValue | gainOverBestArm | gainOverBaseline",
    ParamValidators.inArray(Array("policyValue", "gainOverBestArm", "gainOverBaseline")))
  setDefault(predictionCol -> PolicyOutputColumns.ActionIndex, metricName -> "policyValue")

  def setRewardsCol(v: String): this.type = set(rewardsCol, v)
  def setRewardCols(v: Array[String]): this.type = set(rewardCols, v)
  def setPredictionCol(v: String): this.type = set(predictionCol, v)
  def setTreatmentVocabulary(v: Array[String]): this.type = set(treatmentVocabulary, v)
  def setBestArm(v: String): this.type = set(bestArm, v)
  def setBaselineArm(v: String): this.type = set(baselineArm, v)
  def setMetricName(v: String): this.type = set(metricName, v)

  /** Takes the arm labels and the training-data best arm from a fitted model. */
  def setModel(model: PolicyTreeModel): this.type =
    setTreatmentVocabulary(model.getTreatmentVocabulary).setBestArm(model.bestArmOnTraining)

  /** Takes the arm labels and the training-data best arm from a fitted forest. */
  def setModel(model: PolicyForestModel): this.type =
    setTreatmentVocabulary(model.getTreatmentVocabulary).setBestArm(model.bestArmOnTraining)

  override def isLargerBetter: Boolean = true

  override def copy(extra: ParamMap): PolicyValueEvaluator = defaultCopy(extra)

  override def evaluate(dataset: Dataset[_]): Double = {
    val e = estimates(dataset.toDF())
    $(metricName) match {
      case "policyValue" => e.policy.value
      case "gainOverBestArm" => e.difference(armIndex(bestArm, e.nArms)).value
      case "gainOverBaseline" => e.difference(armIndex(baselineArm, e.nArms)).value
    }
  }

  /** One row per estimate: (policy, value, se, ci_low, ci_high, n). */
  def summary(dataset: Dataset[_]): DataFrame = {
    val df = dataset.toDF()
    val e = estimates(df)
    val names = get(treatmentVocabulary).map(_.toSeq).getOrElse((0 until e.nArms).map(_.toString))
    val rows = Seq("policy" -> e.policy) ++ (0 until e.nArms).map(a => s"always ${names(a)}" -> e.arm(a)) ++
      get(bestArm).toSeq.map(_ => armIndex(bestArm, e.nArms)).map(a => s"policy - best arm (${names(a)})" -> e.difference(a)) ++
      get(baselineArm).toSeq.map(_ => armIndex(baselineArm, e.nArms)).map(a => s"policy - baseline (${names(a)})" -> e.difference(a))
    val schema = StructType(Seq("policy" -> StringType, "value" -> DoubleType, "se" -> DoubleType, "ci_low" -> DoubleType,
      "ci_high" -> DoubleType, "n" -> LongType).map { case (n, t) => StructField(n, t, nullable = false) })
    df.sparkSession.createDataFrame(
      df.sparkSession.sparkContext.parallelize(rows.map { case (p, m) => Row(p, m.value, m.se, m.low, m.high, m.n) }, 1), schema)
  }

  private def armIndex(p: Param[String], nArms: Int): Int = {
    val v = get(p).getOrElse(throw new IllegalArgumentException(
      if (p == bestArm) "set bestArm to the arm chosen on the training data (setModel(model) does it); choosing it on the " +
        "holdout would favour it (winner's curse)"
      else s"set ${p.name} to compare against"))
    val byLabel = get(treatmentVocabulary).map(_.indexOf(v)).filter(_ >= 0)
    byLabel.orElse(scala.util.Try(v.toInt).toOption.filter(i => i >= 0 && i < nArms)).getOrElse(
      throw new IllegalArgumentException(s"${p.name} '$v' is neither an arm label " +
        s"${get(treatmentVocabulary).map(_.mkString("[", ", ", "]")).getOrElse("(no treatmentVocabulary set)")} nor an index below $nArms"))
  }

  private def rewards(df: DataFrame): Seq[Column] = (get(rewardsCol), get(rewardCols)) match {
    case (Some(c), None) =>
      val f = TrainingData.column(df.schema, "rewardsCol", c)
      if (!f.dataType.isInstanceOf[ArrayType]) throw new IllegalArgumentException(s"rewardsCol '$c' has type ${f.dataType.simpleString}; expected array<double>")
      val n = df.select(min(size(TrainingData.userCol(c))), max(size(TrainingData.userCol(c)))).head()
      if (n.isNullAt(0)) throw new IllegalArgumentException("the evaluation data has no rows")
      if (n.getInt(0) != n.getInt(1)) throw new IllegalArgumentException(s"rewardsCol '$c' arrays have between ${n.getInt(0)} and ${n.getInt(1)} elements; every row needs one per arm")
      (0 until n.getInt(0)).map(a => element_at(TrainingData.userCol(c), a + 1).cast(DoubleType))
    case (None, Some(cs)) =>
      cs.foreach { c =>
        val f = TrainingData.column(df.schema, "rewardCols", c)
        if (!TrainingData.isNumeric(f.dataType)) throw new IllegalArgumentException(s"reward column '$c' has type ${f.dataType.simpleString}; rewards must be numeric")
      }
      cs.toSeq.map(c => TrainingData.userCol(c).cast(DoubleType))
    case _ => throw new IllegalArgumentException("set exactly one of rewardsCol (an array column) or rewardCols")
  }

  private def estimates(df: DataFrame): Estimates = {
    val gammas = rewards(df)
    val k = gammas.size
    if (k < 2) throw new IllegalArgumentException(s"policy value needs rewards for at least 2 arms, got $k")
    val pred = TrainingData.userCol($(predictionCol))
    TrainingData.column(df.schema, "predictionCol", $(predictionCol))
    val g = df.select(pred.cast(IntegerType).as("a") +: gammas.zipWithIndex.map { case (c, i) => c.as(s"g$i") }: _*)
    val gcols = (0 until k).map(i => col(s"g$i"))
    val bad = gcols.map(c => c.isNull || isnan(c) || abs(c) === lit(Double.PositiveInfinity)).reduce(_ || _)
    val pre = g.agg(count(lit(1)), sum(when(bad, 1L).otherwise(0L)),
      sum(when(col("a").isNull || col("a") < 0 || col("a") >= k, 1L).otherwise(0L)), greatest(gcols.map(c => max(abs(c))): _*)).head()
    val n = pre.getLong(0)
    if (n == 0) throw new IllegalArgumentException("the evaluation data has no rows")
    if (pre.getLong(1) > 0) throw new IllegalArgumentException(s"${pre.getLong(1)} of $n rows have a null, NaN or infinite reward")
    if (pre.getLong(2) > 0) throw new IllegalArgumentException(s"${pre.getLong(2)} of $n rows have a ${$(predictionCol)} that is null or outside 0..${k - 1}")
    // Differences reach 2·max|Γ|, so the shift leaves room for them.
    val shift = FixedPoint.rewardShift(n, 2 * pre.getDouble(3))
    val scale = math.pow(2.0, shift)
    val q = gcols.map(c => round(c * lit(scale)).cast(LongType))
    val chosen = (0 until k).foldLeft(lit(0L)) { case (acc, a) => when(col("a") === a, q(a)).otherwise(acc) }
    val dec = DecimalType(38, 0)
    def sums(x: Column): Seq[Column] = Seq(sum(x.cast(dec)), sum((x.cast(dec) * x.cast(dec)).cast(dec)))
    val aggs = sums(chosen) ++ q.flatMap(sums) ++ q.flatMap(qa => sums(chosen - qa))
    val r = g.agg(aggs.head, aggs.tail: _*).head()
    def moments(i: Int) = Moments(r.getDecimal(i).toBigInteger, r.getDecimal(i + 1).toBigInteger, n, shift)
    Estimates(k, moments(0), (0 until k).map(a => moments(2 + 2 * a)), (0 until k).map(a => moments(2 + 2 * k + 2 * a)))
  }
}

/** Exact integer sums of a fixed-point variable; value and standard error derived from them deterministically. */
private final case class Moments(sum: java.math.BigInteger, sumSquares: java.math.BigInteger, n: Long, shift: Int) {
  private val mc = MathContext.DECIMAL128
  private val unit = new JBigDecimal(java.math.BigInteger.ONE.shiftLeft(math.abs(shift)))
  private def scaled(x: JBigDecimal, power: Int): JBigDecimal =
    if (shift >= 0) x.divide(unit.pow(power), mc) else x.multiply(unit.pow(power), mc)
  private val nn = new JBigDecimal(n)
  val value: Double = scaled(new JBigDecimal(sum).divide(nn, mc), 1).doubleValue
  /** Sample standard deviation / √n. */
  val se: Double =
    if (n < 2) Double.NaN
    else {
      val s = new JBigDecimal(sum)
      val ss = new JBigDecimal(sumSquares).subtract(s.multiply(s, mc).divide(nn, mc), mc)
      val variance = scaled(ss.divide(new JBigDecimal(n - 1), mc), 2).doubleValue
      math.sqrt(math.max(0.0, variance) / n)
    }
  val low: Double = value - 1.959963984540054 * se
  val high: Double = value + 1.959963984540054 * se
}

private final case class Estimates(nArms: Int, policy: Moments, arm: IndexedSeq[Moments], difference: IndexedSeq[Moments])

object PolicyValueEvaluator extends DefaultParamsReadable[PolicyValueEvaluator]

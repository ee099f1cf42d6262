package org.sparkpolicy.ml

import java.math.{BigDecimal => JBigDecimal}
import org.apache.spark.ml.evaluation.Evaluator
import org.apache.spark.ml.param._
import org.apache.spark.ml.util.{DefaultParamsReadable, DefaultParamsWritable, Identifiable}
import org.apache.spark.sql.{Column, DataFrame, Dataset, Row}
import org.apache.spark.sql.functions._
import org.apache.spark.sql.types._
import org.sparkpolicy.ml.model.PolicyOutputColumns
import org.sparkpolicy.train.TrainingData

/**
 * The uplift (Qini) curve of one treatment arm against one control arm, and its area normalized as
 * scikit-uplift's `qini_auc_score` (with its default `negative_effect=True`), so results compare with
 * published numbers:
 *
 *  - rows are ranked by the uplift score, highest first; rows with equal scores form one group, and the
 *    curve has one point per distinct score (after the whole group), plus the origin;
 *  - at a point with N rows above it, of which N_t treated and N_c controls with outcome sums Y_t, Y_c:
 *    Qini(N) = Y_t − Y_c · N_t / N_c (0 for the second term while N_c = 0);
 *  - the perfect curve is the Qini curve of the score Y·1{treated} − Y·1{control};
 *  - areas are trapezoids; with the random line from the origin to the curve's last point,
 *    qini_auc_score = (area(model) − area(random)) / (area(perfect) − area(random)).
 *
 * The uplift score is `upliftCol` if set, else `scores[treatmentArm] − scores[controlArm]` from the
 * model's `policy_scores` (`setModel` names the arms). Rows of other arms (and rows with no arm) are left
 * out and counted (`summary`'s `n_excluded`). scikit-uplift accepts only 0/1 outcomes; this evaluator also
 * takes any numeric outcome with the same formulas.
 *
 * Exact and order-independent: counts and outcome sums are aggregated per distinct score (outcomes as
 * decimals, exact for integers), so any layout gives the same bits. The driver receives one record per
 * distinct score: few for a policy tree's leaf scores, up to one per row for a continuous score.
 */
class QiniEvaluator(override val uid: String) extends Evaluator with DefaultParamsWritable {
  def this() = this(Identifiable.randomUID("qiniEvaluator"))

  final val upliftCol = new Param[String](this, "upliftCol", "numeric uplift score column; when unset, scoresCol[treatmentArm] − scoresCol[controlArm]")
  final val scoresCol = new Param[String](this, "scoresCol", "array<double> of per-arm scores in treatmentVocabulary order (the model's policy_scores)")
  final val treatmentVocabulary = new StringArrayParam(this, "treatmentVocabulary", "arm labels in scoresCol order")
  final val treatmentCol = new Param[String](this, "treatmentCol", "column of arm labels")
  final val outcomeCol = new Param[String](this, "outcomeCol", "numeric outcome column (scikit-uplift requires 0/1)")
  final val treatmentArm = new Param[String](this, "treatmentArm", "label of the treated arm")
  final val controlArm = new Param[String](this, "controlArm", "label of the control arm")
  setDefault(scoresCol -> PolicyOutputColumns.Scores)

  def setUpliftCol(v: String): this.type = set(upliftCol, v)
  def setScoresCol(v: String): this.type = set(scoresCol, v)
  def setTreatmentVocabulary(v: Array[String]): this.type = set(treatmentVocabulary, v)
  def setTreatmentCol(v: String): this.type = set(treatmentCol, v)
  def setOutcomeCol(v: String): this.type = set(outcomeCol, v)
  def setTreatmentArm(v: String): this.type = set(treatmentArm, v)
  def setControlArm(v: String): this.type = set(controlArm, v)

  /** Takes the arm labels (the order of `policy_scores`) from a fitted model. */
  def setModel(model: PolicyTreeModel): this.type = setTreatmentVocabulary(model.getTreatmentVocabulary)

  override def isLargerBetter: Boolean = true

  override def copy(extra: ParamMap): QiniEvaluator = defaultCopy(extra)

  /** scikit-uplift's `qini_auc_score`. */
  override def evaluate(dataset: Dataset[_]): Double = result(dataset).qiniAucScore

  /** One row: qini_auc_score, the three areas, n_treatment, n_control, n_excluded. */
  def summary(dataset: Dataset[_]): DataFrame = {
    val r = result(dataset)
    val schema = StructType(Seq("qini_auc_score" -> DoubleType, "area_model" -> DoubleType, "area_perfect" -> DoubleType,
      "area_random" -> DoubleType, "n_treatment" -> LongType, "n_control" -> LongType, "n_excluded" -> LongType)
      .map { case (n, t) => StructField(n, t, nullable = false) })
    val spark = dataset.sparkSession
    spark.createDataFrame(spark.sparkContext.parallelize(Seq(Row(r.qiniAucScore, r.areaModel, r.areaPerfect, r.areaRandom,
      r.numTreatment, r.numControl, r.numExcluded)), 1), schema)
  }

  /** The curves as rows (curve: "model" | "perfect" | "random", point, n, qini), for plotting. */
  def curve(dataset: Dataset[_]): DataFrame = {
    val r = result(dataset)
    def rows(name: String, c: QiniCurve) = c.n.indices.map(i => Row(name, i, c.n(i), c.qini(i)))
    val schema = StructType(Seq(StructField("curve", StringType, nullable = false), StructField("point", IntegerType, nullable = false),
      StructField("n", LongType, nullable = false), StructField("qini", DoubleType, nullable = false)))
    val spark = dataset.sparkSession
    spark.createDataFrame(spark.sparkContext.parallelize(rows("model", r.model) ++ rows("perfect", r.perfect) ++
      rows("random", r.random), 1), schema)
  }

  /** Everything at once: the model, perfect and random curves, their areas and the normalized score. */
  def result(dataset: Dataset[_]): QiniResult = {
    val df = dataset.toDF()
    val (t, c) = (required(treatmentArm), required(controlArm))
    if (t == c) throw new IllegalArgumentException(s"treatmentArm and controlArm are both '$t'")
    val w = TrainingData.userCol(required(treatmentCol)).cast(StringType)
    TrainingData.column(df.schema, "treatmentCol", $(treatmentCol))
    val y = TrainingData.userCol(required(outcomeCol))
    if (!TrainingData.isNumeric(TrainingData.column(df.schema, "outcomeCol", $(outcomeCol)).dataType))
      throw new IllegalArgumentException(s"outcomeCol '${$(outcomeCol)}' must be numeric")
    val g = df.select(
      when(w === lit(t), 1).when(w === lit(c), 0).otherwise(-1).as("arm"),
      upliftScore(df).as("score"),
      y.cast(DoubleType).as("y"))
    val kept = col("arm") >= 0
    def bad(x: Column) = x.isNull || isnan(x) || abs(x) === lit(Double.PositiveInfinity)
    val pre = g.agg(sum(when(!kept, 1L).otherwise(0L)), sum(when(kept && bad(col("score")), 1L).otherwise(0L)),
      sum(when(kept && bad(col("y")), 1L).otherwise(0L))).head()
    val excluded = if (pre.isNullAt(0)) 0L else pre.getLong(0)
    if (!pre.isNullAt(1) && pre.getLong(1) > 0) throw new IllegalArgumentException(s"${pre.getLong(1)} rows of arms '$t' and '$c' have a null, NaN or infinite uplift score")
    if (!pre.isNullAt(2) && pre.getLong(2) > 0) throw new IllegalArgumentException(s"${pre.getLong(2)} rows of arms '$t' and '$c' have a null, NaN or infinite outcome")
    val rows = g.where(kept)
    // Decimal outcome sums are exact, so the per-score groups do not depend on the summation order.
    val yDec = col("y").cast(DecimalType(38, 18))
    val perfectScore = when(col("arm") === 1, col("y")).otherwise(-col("y"))
    val model = QiniEvaluator.groups(rows, col("score"), yDec)
    val perfect = QiniEvaluator.groups(rows, perfectScore, yDec)
    val nT = model.map(_.nTreated).sum
    val nC = model.map(_.nControl).sum
    if (nT == 0 || nC == 0) throw new IllegalArgumentException(s"the Qini curve needs rows of both arms; got $nT of '$t' and $nC of '$c'")
    val modelCurve = QiniEvaluator.curveOf(model)
    val perfectCurve = QiniEvaluator.curveOf(perfect)
    val random = QiniCurve(Array(0L, perfectCurve.n.last), Array(0.0, perfectCurve.qini.last))
    val (aModel, aPerfect, aRandom) = (modelCurve.area, perfectCurve.area, random.area)
    QiniResult((aModel - aRandom) / (aPerfect - aRandom), aModel, aPerfect, aRandom, modelCurve, perfectCurve, random,
      nT, nC, excluded)
  }

  private def required(p: Param[String]): String =
    get(p).getOrElse(throw new IllegalArgumentException(s"${p.name} is not set"))

  private def upliftScore(df: DataFrame): Column = get(upliftCol) match {
    case Some(u) =>
      if (!TrainingData.isNumeric(TrainingData.column(df.schema, "upliftCol", u).dataType))
        throw new IllegalArgumentException(s"upliftCol '$u' must be numeric")
      TrainingData.userCol(u).cast(DoubleType)
    case None =>
      val s = $(scoresCol)
      if (!TrainingData.column(df.schema, "scoresCol", s).dataType.isInstanceOf[ArrayType])
        throw new IllegalArgumentException(s"scoresCol '$s' must be an array of per-arm scores")
      val vocab = get(treatmentVocabulary).getOrElse(throw new IllegalArgumentException(
        "set upliftCol, or treatmentVocabulary (setModel(model) does it) to take the uplift from scoresCol"))
      def at(label: String) = {
        val i = vocab.indexOf(label)
        if (i < 0) throw new IllegalArgumentException(s"arm '$label' is not in treatmentVocabulary ${vocab.mkString("[", ", ", "]")}")
        element_at(TrainingData.userCol(s), i + 1).cast(DoubleType)
      }
      at($(treatmentArm)) - at($(controlArm))
  }
}

object QiniEvaluator extends DefaultParamsReadable[QiniEvaluator] {
  /** Counts and exact outcome sums of one distinct score. */
  private final case class Group(score: Double, nTreated: Long, nControl: Long, yTreated: JBigDecimal, yControl: JBigDecimal)

  private def groups(rows: DataFrame, score: Column, y: Column): Array[Group] = {
    val treated = col("arm") === 1
    rows.groupBy(score.as("s")).agg(
      sum(when(treated, 1L).otherwise(0L)), sum(when(!treated, 1L).otherwise(0L)),
      sum(when(treated, y).otherwise(lit(0).cast(DecimalType(38, 18)))),
      sum(when(!treated, y).otherwise(lit(0).cast(DecimalType(38, 18)))))
      .collect()
      .map(r => Group(r.getDouble(0), r.getLong(1), r.getLong(2), r.getDecimal(3), r.getDecimal(4)))
      .sortBy(g => -g.score) // highest score first; -0.0 and 0.0 were grouped together by Spark
  }

  /** Cumulative counts and sums after each group, then scikit-uplift's Qini value in its order of operations. */
  private def curveOf(gs: Array[Group]): QiniCurve = {
    val n = new Array[Long](gs.length + 1)
    val q = new Array[Double](gs.length + 1)
    var (nt, nc) = (0L, 0L)
    var (yt, yc) = (JBigDecimal.ZERO, JBigDecimal.ZERO)
    gs.indices.foreach { i =>
      val g = gs(i)
      nt += g.nTreated; nc += g.nControl; yt = yt.add(g.yTreated); yc = yc.add(g.yControl)
      val ratio = if (nc != 0) nt.toDouble / nc.toDouble else 0.0
      n(i + 1) = nt + nc
      q(i + 1) = yt.doubleValue - yc.doubleValue * ratio
    }
    QiniCurve(n, q)
  }
}

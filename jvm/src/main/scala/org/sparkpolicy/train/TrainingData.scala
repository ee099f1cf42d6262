package org.sparkpolicy.train

import org.apache.spark.sql.{Column, DataFrame}
import org.apache.spark.sql.functions._
import org.apache.spark.sql.types._
import org.sparkpolicy.contract.{RowHash, Signatures}
import org.sparkpolicy.train.BadInput.fail

/**
 * Validated training data: feature columns cast to double (`f0..`, null = missing; a categorical
 * feature's category code) and one Γ column per arm (`g0..`), plus the order-independent aggregates
 * the kernels need. `categories(f)`: the labels of categorical feature f in code order. From the
 * validation pass, when asked (`PassOptions`): the input signature, the boundary sample (until placed),
 * and the row key column (`RowKeyName`) in `frame`, for the output signature.
 */
private[sparkpolicy] final case class TrainingData(
    frame: DataFrame,
    nFeatures: Int,
    vocabulary: Array[String],
    rewardType: String,
    nRows: Long,
    maxAbsReward: Double,
    meanAbsReward: Double,
    armCounts: Map[String, Long],
    droppedRows: Long = 0L,
    aipwBase: Option[AipwBase] = None,
    clippedPropensities: Long = 0L,
    categories: Array[Option[Array[String]]] = Array.empty,
    inputSignature: Option[String] = None,
    boundarySample: Option[BoundarySample] = None,
    rowKeyed: Boolean = false) {
  def nArms: Int = vocabulary.length
  def categoricalFlags: Array[Boolean] = categories.map(_.isDefined)
}

private[sparkpolicy] object TrainingData {
  val MaxArms = 1000

  /** Internal column names; prefixed so they cannot collide with a user's column (e.g. an outcome named g0). */
  val SampleHashName = "__sp_sample_hash"
  /** AIPW inputs before Γ exists: the arm index, outcome, given propensity (or null) and fold. */
  val ArmName = "__sp_arm"
  val OutcomeName = "__sp_y"
  val PropensityName = "__sp_e"
  val FoldName = "__sp_fold"
  /** The row key hash of the output signature (`Signatures.rowKey`), carried into the training blocks. */
  val RowKeyName = "__sp_row_key"

  def featureName(i: Int): String = s"__sp_f$i"
  def rewardName(a: Int): String = s"__sp_g$a"

  /** A user's column by name, quoted, so names with dots or spaces work. */
  def userCol(name: String): Column = col("`" + name.replace("`", "``") + "`")

  def isNumeric(t: DataType): Boolean = t match {
    case _: NumericType | BooleanType => true
    case _ => false
  }

  private def isIntegral(t: DataType): Boolean = t match {
    case ByteType | ShortType | IntegerType | LongType => true
    case _ => false
  }


  def column(schema: StructType, param: String, name: String): StructField =
    schema.fields.find(_.name == name).getOrElse(
      fail(s"$param: column '$name' does not exist; available columns: ${schema.fieldNames.mkString(", ")}"))

  /**
   * Checks feature columns exist and are numeric, boolean or string (categorical), and that
   * `categoricalCols` are among them; shared by fit and transform.
   */
  def validateFeatures(schema: StructType, featureCols: Array[String], categoricalCols: Array[String] = Array.empty): Unit = {
    if (featureCols.isEmpty) fail("featureCols is empty; set at least one feature column")
    val dup = featureCols.diff(featureCols.distinct)
    if (dup.nonEmpty) fail(s"featureCols lists '${dup.head}' more than once")
    featureCols.foreach { c =>
      val f = column(schema, "featureCols", c)
      if (!isNumeric(f.dataType) && f.dataType != StringType)
        fail(s"feature column '$c' has type ${f.dataType.simpleString}; features must be numeric, boolean or string (categorical)")
    }
    categoricalCols.foreach { c =>
      column(schema, "categoricalCols", c)
      if (!featureCols.contains(c)) fail(s"categoricalCols names column '$c', which is not in featureCols [${featureCols.mkString(", ")}]")
    }
  }

  /** The user columns a fit reads: features, then the reward's sources, then the row id. */
  def sourceColumns(spec: InputSpec): Seq[String] =
    (spec.featureCols.toSeq ++ spec.treatmentCol ++ spec.rewardCols.toSeq.flatten ++ spec.outcomeCol ++ spec.propensityCol ++
      spec.rowIdCol).distinct

  /**
   * Validates `input` against `spec` in one pass over its rows (`InputPass`) and returns the training
   * frame, which the binning pass reads. `keepUserColumns`: the frame also carries the input's columns,
   * behind the internal ones (DoublyRobustScores). `options`: what else the pass computes.
   */
  def prepare(input: DataFrame, spec: InputSpec, keepUserColumns: Boolean = false, options: PassOptions = PassOptions()): TrainingData = {
    val schema = input.schema
    validateFeatures(schema, spec.featureCols, spec.categoricalCols)
    spec.rewardCols.foreach { cols =>
      if (cols.isEmpty) fail("rewardCols is empty")
      val dup = cols.diff(cols.distinct)
      if (dup.nonEmpty) fail(s"rewardCols lists '${dup.head}' more than once")
      cols.foreach { c =>
        val f = column(schema, "rewardCols", c)
        if (!isNumeric(f.dataType)) fail(s"reward column '$c' has type ${f.dataType.simpleString}; rewards must be numeric")
      }
    }
    // AIPW is the default with an outcome column; models saved earlier keep the type recorded in their contract.
    val rewardType = spec.rewardType.getOrElse(if (spec.rewardCols.isDefined) "given" else "aipw")
    rewardType match {
      case "given" if spec.rewardCols.isEmpty => fail("rewardType 'given' needs rewardCols (one reward column per arm)")
      case t @ ("ipw" | "aipw") if spec.outcomeCol.isEmpty => fail(s"rewardType '$t' needs outcomeCol (and treatmentCol)")
      case t @ ("ipw" | "aipw") if spec.treatmentCol.isEmpty => fail(s"rewardType '$t' needs treatmentCol")
      case "given" | "ipw" | "aipw" =>
      case other => fail(s"rewardType '$other' is not supported; use 'given', 'ipw' or 'aipw'")
    }
    if (spec.treatmentCol.isEmpty && spec.rewardCols.isEmpty)
      fail("set treatmentCol (with outcomeCol) or rewardCols")
    spec.outcomeCol.foreach { c =>
      val f = column(schema, "outcomeCol", c)
      if (!isNumeric(f.dataType)) fail(s"outcome column '$c' has type ${f.dataType.simpleString}; outcomes must be numeric")
    }
    spec.propensityCol.foreach { c =>
      val f = column(schema, "propensityCol", c)
      if (!isNumeric(f.dataType)) fail(s"propensity column '$c' has type ${f.dataType.simpleString}; it must be numeric")
    }

    spec.rowIdCol.foreach(c => column(schema, "rowIdCol", c))
    spec.treatmentCol.foreach { t =>
      val field = column(schema, "treatmentCol", t)
      if (!isIntegral(field.dataType) && field.dataType != StringType)
        fail(s"treatment column '$t' has type ${field.dataType.simpleString}; labels must be string or integer")
    }

    // The one pass over the rows before anything data-dependent is decided; every check below reads its summary.
    val dropped = invalidRows(spec)
    val categorical = spec.featureCols.map(c => Categories.isCategorical(schema(c), spec.categoricalCols))
    val (summary, sample) = InputPass.run(input, spec, rewardType == "given", dropped, categorical, options)
    try decide(input, spec, rewardType, keepUserColumns, options, dropped, categorical, summary, sample)
    catch { case e: Throwable => sample.foreach(_.release()); throw e }
  }

  /** The checks of `prepare` in their order, from the validation pass's summary, and the frame the binning pass reads. */
  private def decide(input: DataFrame, spec: InputSpec, rewardType: String, keepUserColumns: Boolean, options: PassOptions,
      dropped: Option[Column], categorical: Array[Boolean], summary: InputSummary, sample: Option[BoundarySample]): TrainingData = {
    val schema = input.schema
    val droppedRows = if (dropped.isEmpty) 0L else summary.dropped
    val df = if (droppedRows == 0) input else input.where(!dropped.get)
    val (vocabulary, armCounts, labelOf) = InputChecks.vocabulary(summary, spec, schema)
    if (vocabulary.length < 2)
      fail(s"a policy needs at least 2 arms, but the treatment vocabulary is [${vocabulary.mkString(", ")}]")
    spec.rewardCols.foreach { cols =>
      if (cols.length != vocabulary.length)
        fail(s"rewardCols has ${cols.length} columns [${cols.mkString(", ")}] but the treatment vocabulary has " +
          s"${vocabulary.length} arms [${vocabulary.mkString(", ")}]; give one reward column per arm, in vocabulary order")
    }

    if (rewardType == "given" && spec.treatmentCol.isDefined && spec.vocabulary.isEmpty)
      fail(s"with rewardCols and treatmentCol, set treatmentVocabulary to say which arm each reward column " +
        s"[${spec.rewardCols.get.mkString(", ")}] belongs to (the observed labels are [${vocabulary.mkString(", ")}])")

    val total = armCounts.values.sum.toDouble
    val rewards: Seq[(String, Column)] = rewardType match {
      case "given" => spec.rewardCols.get.toSeq.map(c => c -> userCol(c).cast(DoubleType))
      case "ipw" =>
        val y = userCol(spec.outcomeCol.get).cast(DoubleType)
        vocabulary.toSeq.map { arm =>
          val e = spec.propensityCol match {
            case Some(p) => userCol(p).cast(DoubleType)
            case None =>
              val n = armCounts.getOrElse(arm, 0L)
              if (n == 0) fail(s"treatment arm '$arm' has no rows, so its share (the IPW propensity) is 0; " +
                "remove it from treatmentVocabulary or pass propensityCol")
              lit(n / total)
          }
          // The e > 0 guard keeps ANSI mode from failing on a bad propensity before it is counted and reported.
          s"reward for arm '$arm'" -> when(labelOf.get === lit(arm) && e > 0.0, y / e).otherwise(lit(0.0))
        }
      case "aipw" => Nil // built after the boundaries and the cross-fitted outcome models (AipwRewards)
    }

    val categories = Categories.resolve(schema, spec.featureCols, spec.categoricalCols, spec.categoryOrders, summary)
    val features = spec.featureCols.toSeq.zipWithIndex.map { case (c, i) =>
      val x = categories(i) match {
        case Some(labels) => Categories.code(Categories.label(userCol(c), schema(c).dataType), labels.toSeq)
        case None => userCol(c).cast(DoubleType)
      }
      x.as(featureName(i))
    }
    val gammas = rewards.zipWithIndex.map { case ((_, g), a) => g.as(rewardName(a)) }
    // The boundary sample's hash rides behind the features and rewards (blocks read only the first F + K
    // columns): of the row id when given, else of the row's source columns, never of derived Γ, so that
    // adding a row (which shifts IPW shares) does not redraw the whole sample.
    val sampleHash = RowHash.hash(RowHash.SampleSeed, sampleKey(spec))
    val aipwColumns = if (rewardType != "aipw") Nil else {
      val arm = vocabulary.zipWithIndex.foldLeft(lit(null).cast(IntegerType)) { case (acc, (label, i)) =>
        when(labelOf.get === lit(label), lit(i)).otherwise(acc)
      }
      Seq(arm.as(ArmName), userCol(spec.outcomeCol.get).cast(DoubleType).as(OutcomeName),
        spec.propensityCol.map(c => userCol(c).cast(DoubleType)).getOrElse(lit(null).cast(DoubleType)).as(PropensityName),
        RowHash.fold(RowHash.FoldSeed, sampleKey(spec), spec.aipw.folds).as(FoldName))
    }
    // The row key of the output signature, signed from the blocks once the tree is grown (`OutputSignature`).
    val rowKey = if (options.signRows) Seq(Signatures.rowKey(spec.featureCols.toSeq, categorical.toSeq).as(RowKeyName)) else Nil
    val userColumns = if (keepUserColumns) df.columns.toSeq.map(userCol) else Nil
    val frame = df.select(((features ++ gammas ++ aipwColumns) :+ sampleHash.as(SampleHashName)) ++ rowKey ++ userColumns: _*)

    val nRows = summary.rows
    if (nRows == 0) fail("the training data has no rows")
    spec.outcomeCol.foreach { c =>
      val bad = summary.badOutcomes
      if (bad > 0) fail(s"outcome column '$c' has $bad null, NaN or infinite values out of $nRows rows " +
        "(set handleInvalid to 'skip' to drop those rows)")
    }
    spec.propensityCol.foreach { c =>
      val bad = summary.badPropensities
      if (bad > 0) fail(s"propensity column '$c' has $bad values that are null, NaN or outside (0, 1], out of $nRows rows")
    }
    val stats = InputChecks.rewards(summary, rewardType, vocabulary, armCounts, spec.propensityCol.isDefined)
    rewards.indices.foreach { a =>
      // IPW Γ is bad only where y / e overflows (y and e are checked above): counted when the bound says so.
      val bad = if (rewardType == "given") summary.badGiven(a) else if (stats.maxAbs(a).isInfinite) InputChecks.countBad(df, rewards(a)._2) else 0L
      if (bad > 0) {
        val what = if (rewardType == "given") s"reward column '${rewards(a)._1}'" else rewards(a)._1
        fail(s"$what has $bad null, NaN or infinite values out of $nRows rows")
      }
    }
    val maxAbsReward = (stats.maxAbs :+ 0.0).max
    val aipwBase = if (rewardType != "aipw") None else {
      val propensity = if (spec.propensityCol.isDefined) "column" else spec.aipw.propensityModel
      Some(AipwBase(frame, summary.maxAbsOutcome, propensity, vocabulary.map(a => armCounts.getOrElse(a, 0L) / total)))
    }
    TrainingData(frame, spec.featureCols.length, vocabulary, rewardType, nRows, maxAbsReward, stats.meanAbs, armCounts,
      droppedRows, aipwBase, categories = categories,
      inputSignature = if (options.signRows) Some(Signatures.inputSignature(summary.signature)) else None,
      boundarySample = sample, rowKeyed = options.signRows)
  }

  /** The key columns of a row's sample hash and fold: the row id when given, else the row's source columns. */
  def sampleKey(spec: InputSpec): Seq[Column] = sampleKeyNames(spec).map(userCol)

  /** The columns of [[sampleKey]]: the row id, else every source column. */
  def sampleKeyNames(spec: InputSpec): Seq[String] = spec.rowIdCol.map(Seq(_)).getOrElse(sourceColumns(spec))

  /**
   * Rows with a null treatment or a null, NaN or infinite outcome, when `handleInvalid = "skip"` drops them
   * (None otherwise: such rows are an error naming the column and the count, raised from the pass's counts).
   */
  def invalidRows(spec: InputSpec): Option[Column] =
    if (spec.handleInvalid != "skip" || (spec.treatmentCol.isEmpty && spec.outcomeCol.isEmpty)) None
    else {
      val invalid = (spec.treatmentCol.map(t => userCol(t).isNull).toSeq ++ spec.outcomeCol.map { c =>
        val y = userCol(c).cast(DoubleType)
        y.isNull || isnan(y) || abs(y) === lit(Double.PositiveInfinity)
      }).reduce(_ || _)
      Some(coalesce(invalid, lit(true)))
    }
}

package org.sparkpolicy.train

import org.apache.spark.sql.{Column, DataFrame}
import org.apache.spark.sql.functions._
import org.apache.spark.sql.types._
import org.sparkpolicy.contract.RowHash
import org.sparkpolicy.train.BadInput.{fail, utf8Less}

/**
 * Validated training data: feature columns cast to double (`f0..`, null = missing; a categorical
 * feature's category code) and one Γ column per arm (`g0..`), plus the order-independent aggregates
 * the kernels need. `categories(f)`: the labels of categorical feature f in code order.
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
    categories: Array[Option[Array[String]]] = Array.empty) {
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

  /** `keepUserColumns`: the frame also carries the input's columns, behind the internal ones (DoublyRobustScores). */
  def prepare(input: DataFrame, spec: InputSpec, keepUserColumns: Boolean = false): TrainingData = {
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

    val (df, droppedRows) = dropInvalid(input, spec)
    val (vocabulary, armCounts, labelOf) = resolveVocabulary(df, spec)
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

    val rewards: Seq[(String, Column)] = rewardType match {
      case "given" => spec.rewardCols.get.toSeq.map(c => c -> userCol(c).cast(DoubleType))
      case "ipw" =>
        val y = userCol(spec.outcomeCol.get).cast(DoubleType)
        val total = armCounts.values.sum.toDouble
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

    val categories = Categories.resolve(df, spec.featureCols, spec.categoricalCols, spec.categoryOrders)
    val features = spec.featureCols.toSeq.zipWithIndex.map { case (c, i) =>
      val x = categories(i) match {
        case Some(labels) => Categories.code(Categories.label(userCol(c), schema(c).dataType), labels.toSeq)
        case None => userCol(c).cast(DoubleType)
      }
      x.as(featureName(i))
    }
    val gammas = rewards.zipWithIndex.map { case ((_, g), a) => g.as(rewardName(a)) }
    spec.rowIdCol.foreach(c => column(schema, "rowIdCol", c))
    // The boundary sample's hash rides behind the features and rewards (blocks read only the first F + K
    // columns): of the row id when given, else of the row's source columns, never of derived Γ, so that
    // adding a row (which shifts IPW shares) does not redraw the whole sample.
    val sampleKey = spec.rowIdCol.map(c => Seq(userCol(c))).getOrElse(sourceColumns(spec).map(userCol))
    val sampleHash = RowHash.hash(RowHash.SampleSeed, sampleKey)
    val aipwColumns = if (rewardType != "aipw") Nil else {
      val arm = vocabulary.zipWithIndex.foldLeft(lit(null).cast(IntegerType)) { case (acc, (label, i)) =>
        when(labelOf.get === lit(label), lit(i)).otherwise(acc)
      }
      Seq(arm.as(ArmName), userCol(spec.outcomeCol.get).cast(DoubleType).as(OutcomeName),
        spec.propensityCol.map(c => userCol(c).cast(DoubleType)).getOrElse(lit(null).cast(DoubleType)).as(PropensityName),
        RowHash.fold(RowHash.FoldSeed, sampleKey, spec.aipw.folds).as(FoldName))
    }
    val userColumns = if (keepUserColumns) df.columns.toSeq.map(userCol) else Nil
    val frame = df.select(((features ++ gammas ++ aipwColumns) :+ sampleHash.as(SampleHashName)) ++ userColumns: _*)

    // One pass of order-independent aggregates decides every data-dependent error on the driver.
    val badReward = rewards.indices.map { a =>
      val g = col(rewardName(a))
      sum(when(g.isNull || isnan(g) || abs(g) === lit(Double.PositiveInfinity), 1L).otherwise(0L))
    }
    val maxAbs = rewards.indices.map(a => max(abs(col(rewardName(a)))))
    val meanAbs =
      if (rewards.isEmpty) lit(0.0) else avg(rewards.indices.map(a => abs(col(rewardName(a)))).reduce(_ + _) / lit(rewards.size.toDouble))
    val (outcomeAlias, propensityAlias) = ("__sp_outcome", "__sp_propensity")
    val extra = Seq(
      spec.outcomeCol.map { _ =>
        val y = col(outcomeAlias).cast(DoubleType)
        sum(when(y.isNull || isnan(y) || abs(y) === lit(Double.PositiveInfinity), 1L).otherwise(0L))
      },
      spec.propensityCol.map { _ =>
        val p = col(propensityAlias).cast(DoubleType)
        sum(when(p.isNull || isnan(p) || p <= 0.0 || p > 1.0, 1L).otherwise(0L))
      },
      if (rewardType == "aipw") Some(max(abs(col(outcomeAlias).cast(DoubleType)))) else None).flatten
    val row = df.select(features ++ gammas ++ spec.outcomeCol.map(c => userCol(c).as(outcomeAlias)).toSeq ++
        spec.propensityCol.map(c => userCol(c).as(propensityAlias)).toSeq: _*)
      .agg(count(lit(1)), (badReward ++ maxAbs ++ extra :+ meanAbs): _*)
      .head()
    val nRows = row.getLong(0)
    if (nRows == 0) fail("the training data has no rows")
    val k = rewards.size
    def longAt(i: Int) = if (row.isNullAt(i)) 0L else row.getLong(i)
    var next = 1 + 2 * k
    spec.outcomeCol.foreach { c =>
      val bad = longAt(next); next += 1
      if (bad > 0) fail(s"outcome column '$c' has $bad null, NaN or infinite values out of $nRows rows " +
        "(set handleInvalid to 'skip' to drop those rows)")
    }
    spec.propensityCol.foreach { c =>
      val bad = longAt(next); next += 1
      if (bad > 0) fail(s"propensity column '$c' has $bad values that are null, NaN or outside (0, 1], out of $nRows rows")
    }
    rewards.indices.foreach { a =>
      val bad = longAt(1 + a)
      if (bad > 0) {
        val what = if (rewardType == "given") s"reward column '${rewards(a)._1}'" else rewards(a)._1
        fail(s"$what has $bad null, NaN or infinite values out of $nRows rows")
      }
    }
    val maxAbsOutcome = if (rewardType != "aipw") 0.0 else { next += 1; if (row.isNullAt(next - 1)) 0.0 else row.getDouble(next - 1) }
    val maxAbsReward = (rewards.indices.map(a => if (row.isNullAt(1 + k + a)) 0.0 else row.getDouble(1 + k + a)) :+ 0.0).max
    val meanAbsReward = if (row.isNullAt(next)) 0.0 else row.getDouble(next)
    val aipwBase = if (rewardType != "aipw") None else {
      val propensity = if (spec.propensityCol.isDefined) "column" else spec.aipw.propensityModel
      val total = armCounts.values.sum.toDouble
      Some(AipwBase(frame, maxAbsOutcome, propensity, vocabulary.map(a => armCounts.getOrElse(a, 0L) / total)))
    }
    TrainingData(frame, spec.featureCols.length, vocabulary, rewardType, nRows, maxAbsReward, meanAbsReward, armCounts,
      droppedRows, aipwBase, categories = categories)
  }

  /**
   * Rows with a null treatment or a null, NaN or infinite outcome: an error naming the column and the
   * count (raised by the checks in `prepare`), or, with `handleInvalid = "skip"`, dropped and counted.
   */
  private def dropInvalid(df: DataFrame, spec: InputSpec): (DataFrame, Long) = {
    if (spec.handleInvalid != "skip" || (spec.treatmentCol.isEmpty && spec.outcomeCol.isEmpty)) (df, 0L)
    else {
      val invalid = (spec.treatmentCol.map(t => userCol(t).isNull).toSeq ++ spec.outcomeCol.map { c =>
        val y = userCol(c).cast(DoubleType)
        y.isNull || isnan(y) || abs(y) === lit(Double.PositiveInfinity)
      }).reduce(_ || _)
      val flagged = coalesce(invalid, lit(true))
      val dropped = df.agg(sum(when(flagged, 1L).otherwise(0L))).head()
      val n = if (dropped.isNullAt(0)) 0L else dropped.getLong(0)
      (if (n == 0) df else df.where(!flagged), n)
    }
  }

  /**
   * The treatment vocabulary: given, or the observed labels (integers sorted numerically,
   * strings by UTF-8 bytes), or the reward column names. Labels are strings from here on.
   */
  private def resolveVocabulary(df: DataFrame, spec: InputSpec): (Array[String], Map[String, Long], Option[Column]) =
    spec.treatmentCol match {
      case None =>
        val v = spec.vocabulary.getOrElse(spec.rewardCols.get)
        val dup = v.diff(v.distinct)
        if (dup.nonEmpty) fail(s"treatmentVocabulary lists '${dup.head}' more than once")
        (v, Map.empty, None)
      case Some(t) =>
        val field = column(df.schema, "treatmentCol", t)
        val integral = isIntegral(field.dataType)
        if (!integral && field.dataType != StringType)
          fail(s"treatment column '$t' has type ${field.dataType.simpleString}; labels must be string or integer")
        val label = userCol(t).cast(StringType)
        val counts = df.groupBy(userCol(t)).count().limit(MaxArms + 1).collect()
        if (counts.length > MaxArms)
          fail(s"treatment column '$t' has more than $MaxArms distinct labels; is it really the treatment?")
        val nulls = counts.find(_.isNullAt(0)).map(_.getLong(1)).getOrElse(0L)
        if (nulls > 0) fail(s"treatment column '$t' has $nulls null values (set handleInvalid to 'skip' to drop those rows)")
        val observed: Map[String, Long] = counts.map(r => r.get(0).toString -> r.getLong(1)).toMap
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
        (vocabulary, observed, Some(label))
    }
}

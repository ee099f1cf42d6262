package org.sparkpolicy.ml

import org.apache.hadoop.fs.Path
import org.apache.spark.ml.param.Params
import org.apache.spark.ml.util.{MLReader, MLWriter}
import org.apache.spark.sql.{Row, SparkSession}
import org.apache.spark.sql.types._
import org.json4s._
import org.json4s.jackson.JsonMethods
import org.sparkpolicy.contract.Contract
import org.sparkpolicy.ml.model.{LevelStats, NodeTable, SplitDecision, TreeNode}
import org.sparkpolicy.train.TrainedTree

/**
 * Saved models follow Spark ML's layout: `metadata/` holds one JSON line (class, Spark version, uid,
 * params, and here also the format version, the contract, the signatures and the training record),
 * and `data/` the node table as Parquet. Doubles that must survive bit for bit (the decision log)
 * are stored as their IEEE bits; the node table's doubles are exact in Parquet.
 */
private[ml] object PolicyTreePersistence {
  /**
   * Bumped on any layout change; readers refuse newer formats with a message naming both versions.
   * Version 2 adds the node table's `categorical` column and categorical features in the contract; it is
   * written only for models with a categorical feature, so numeric models stay readable by earlier releases.
   */
  val FormatVersion = 2
  val NumericFormatVersion = 1
  val ModelClass = "org.sparkpolicy.ml.PolicyTreeModel"

  private implicit val formats: Formats = DefaultFormats

  private[ml] val nodeSchema = StructType(Seq(
    StructField("node_id", IntegerType, nullable = false),
    StructField("is_leaf", BooleanType, nullable = false),
    StructField("feature", IntegerType, nullable = false),
    StructField("threshold", DoubleType, nullable = false),
    StructField("threshold_bin", IntegerType, nullable = false),
    StructField("missing_left", BooleanType, nullable = false),
    StructField("arm", IntegerType, nullable = false),
    StructField("count", LongType, nullable = false),
    StructField("values", ArrayType(DoubleType, containsNull = false), nullable = false),
    StructField("categorical", BooleanType, nullable = false)))

  private def bits(d: Double): JValue = JString(java.lang.Long.toHexString(java.lang.Double.doubleToRawLongBits(d)))
  private def fromBits(v: JValue): Double = java.lang.Double.longBitsToDouble(java.lang.Long.parseUnsignedLong(v.extract[String], 16))

  private[ml] def paramsJson(p: Params, explicit: Boolean): JValue = JObject(p.params.toList.flatMap { param =>
    val value = if (explicit) p.get(param) else p.getDefault(param)
    value.map(v => param.name -> JsonMethods.parse(param.asInstanceOf[org.apache.spark.ml.param.Param[Any]].jsonEncode(v)))
  })

  private[ml] def decisionsJson(decisions: Seq[SplitDecision]): JArray = JArray(decisions.toList.map(d => JObject(
    "depth" -> JInt(d.depth), "node" -> JInt(d.node), "split" -> JBool(d.split), "rows" -> JInt(d.rows),
    "feature" -> JInt(d.feature), "threshold" -> bits(d.threshold), "missingLeft" -> JBool(d.missingLeft),
    "gain" -> bits(d.gain), "runnerUpFeature" -> JInt(d.runnerUpFeature),
    "runnerUpThreshold" -> bits(d.runnerUpThreshold), "runnerUpGain" -> bits(d.runnerUpGain))))

  private[ml] def decisionsFrom(json: JValue): Vector[SplitDecision] =
    json.children.map(d => SplitDecision((d \ "depth").extract[Int], (d \ "node").extract[Int],
      (d \ "split").extract[Boolean], (d \ "rows").extract[Long], (d \ "feature").extract[Int], fromBits(d \ "threshold"),
      (d \ "missingLeft").extract[Boolean], fromBits(d \ "gain"), (d \ "runnerUpFeature").extract[Int],
      fromBits(d \ "runnerUpThreshold"), fromBits(d \ "runnerUpGain"))).toVector

  private[ml] def levelsJson(levels: Seq[LevelStats]): JArray = JArray(levels.toList.map(l => JObject(
    "depth" -> JInt(l.depth), "frontierNodes" -> JInt(l.frontierNodes), "featureBlocks" -> JInt(l.featureBlocks),
    "nodeGroups" -> JInt(l.nodeGroups), "recordsToDriver" -> JInt(l.recordsToDriver), "nodesSplit" -> JInt(l.nodesSplit),
    "millis" -> JInt(l.millis), "peakNativeBytesPerTask" -> JInt(l.peakNativeBytesPerTask), "nodesBuilt" -> JInt(l.nodesBuilt),
    "nodesDerived" -> JInt(l.nodesDerived), "rowsHistogrammed" -> JInt(l.rowsHistogrammed))))

  private[ml] def levelsFrom(json: JValue): Vector[LevelStats] =
    json.children.map(l => LevelStats((l \ "depth").extract[Int], (l \ "frontierNodes").extract[Int],
      (l \ "featureBlocks").extract[Int], (l \ "nodeGroups").extract[Int], (l \ "recordsToDriver").extract[Int],
      (l \ "nodesSplit").extract[Int], (l \ "millis").extract[Long],
      (l \ "peakNativeBytesPerTask").extractOpt[Long].getOrElse(0L), (l \ "nodesBuilt").extractOpt[Int].getOrElse(0),
      (l \ "nodesDerived").extractOpt[Int].getOrElse(0), (l \ "rowsHistogrammed").extractOpt[Long].getOrElse(-1L))).toVector

  /** Sets `model`'s Params from a saved metadata's `defaultParamMap`, then its `paramMap` (Params it lacks are skipped). */
  private[ml] def setParams(meta: JValue, model: Params, setDefault: (org.apache.spark.ml.param.Param[Any], Any) => Unit): Unit = {
    def setAll(json: JValue, default: Boolean): Unit = json match {
      case JObject(fields) => fields.foreach { case (name, v) =>
        if (model.hasParam(name)) {
          val p = model.getParam(name).asInstanceOf[org.apache.spark.ml.param.Param[Any]]
          val value = p.jsonDecode(JsonMethods.compact(JsonMethods.render(v)))
          if (default) setDefault(p, value) else model.set(p, value)
        }
      }
      case _ =>
    }
    setAll(meta \ "defaultParamMap", default = true)
    setAll(meta \ "paramMap", default = false)
  }

  def save(model: PolicyTreeModel, trained: TrainedTree, outputSignature: String, path: String, spark: SparkSession): Unit = {
    val decisions = decisionsJson(trained.decisions)
    val levels = levelsJson(trained.levels)
    val metadata = JObject(
      "class" -> JString(ModelClass),
      "timestamp" -> JInt(System.currentTimeMillis()),
      "sparkVersion" -> JString(spark.version),
      "uid" -> JString(model.uid),
      "paramMap" -> paramsJson(model, explicit = true),
      "defaultParamMap" -> paramsJson(model, explicit = false),
      "formatVersion" -> JInt(if (trained.contract.features.exists(_.isCategorical)) FormatVersion else NumericFormatVersion),
      "contract" -> JsonMethods.parse(trained.contract.toJson),
      "signatures" -> JObject(model.signatures.entrySet().toArray(Array.empty[java.util.Map.Entry[String, String]]).toList
        .map(e => e.getKey -> JString(e.getValue))),
      "training" -> JObject(
        "rewardType" -> JString(trained.rewardType), "rewardShift" -> JInt(trained.rewardShift), "numRows" -> JInt(trained.nRows),
        "bestArmOnTraining" -> JInt(trained.bestArmOnTraining), "inputSignature" -> JString(trained.inputSignature),
        "outputSignature" -> JString(outputSignature), "levels" -> levels, "decisions" -> decisions,
        "droppedRows" -> JInt(trained.droppedRows), "clippedPropensities" -> JInt(trained.clippedPropensities),
        "phaseMillis" -> JArray(trained.phaseMillis.toList.map { case (p, ms) => JObject("phase" -> JString(p), "millis" -> JInt(ms)) })))
    spark.sparkContext.parallelize(Seq(JsonMethods.compact(JsonMethods.render(metadata))), 1)
      .saveAsTextFile(new Path(path, "metadata").toString)
    val categorical = trained.contract.features.exists(_.isCategorical)
    val schema = if (categorical) nodeSchema else StructType(nodeSchema.fields.dropRight(1))
    val rows = trained.tree.nodes.map { n =>
      val fields = Seq(n.id, n.isLeaf, n.feature, n.threshold, n.thresholdBin, n.missingLeft, n.arm, n.count, n.values)
      Row.fromSeq(if (categorical) fields :+ n.categorical else fields)
    }
    spark.createDataFrame(spark.sparkContext.parallelize(rows, 1), schema).write.parquet(new Path(path, "data").toString)
  }

  def load(path: String, spark: SparkSession): PolicyTreeModel = {
    val metaPath = new Path(path, "metadata").toString
    val meta = JsonMethods.parse(spark.sparkContext.textFile(metaPath, 1).first())
    val cls = (meta \ "class").extract[String]
    if (cls != ModelClass) throw new IllegalArgumentException(s"$path holds a $cls, not a $ModelClass")
    val version = (meta \ "formatVersion").extractOpt[Int].getOrElse(0)
    if (version != FormatVersion && version != NumericFormatVersion)
      throw new IllegalArgumentException(s"$path was saved in PolicyTreeModel format version $version; this version reads " +
        s"formats $NumericFormatVersion and $FormatVersion only${if (version > FormatVersion) " (saved by a newer release: upgrade to load it)" else ""}")
    val contract = Contract.fromJson(JsonMethods.compact(JsonMethods.render(meta \ "contract")))
    val t = meta \ "training"
    val data = spark.read.parquet(new Path(path, "data").toString)
    val kindAt = Some(data.schema.fieldNames.indexOf("categorical")).filter(_ >= 0) // absent in format 1: every split numeric
    val nodes = data.collect().toVector.map { r =>
      TreeNode(r.getInt(0), r.getBoolean(1), r.getInt(2), r.getDouble(3), r.getInt(4), r.getBoolean(5), r.getInt(6), r.getLong(7),
        r.getSeq[Double](8).toVector, kindAt.exists(r.getBoolean))
    }.sortBy(_.id)
    val levels = levelsFrom(t \ "levels")
    val decisions = decisionsFrom(t \ "decisions")
    val trained = TrainedTree(NodeTable(contract.vocabulary.size, nodes), contract, (t \ "rewardType").extract[String],
      (t \ "rewardShift").extract[Int], (t \ "numRows").extract[Long], levels, decisions, (t \ "bestArmOnTraining").extract[Int],
      (t \ "inputSignature").extract[String], (t \ "droppedRows").extractOpt[Long].getOrElse(0L),
      (t \ "clippedPropensities").extractOpt[Long].getOrElse(0L),
      phaseMillis = (t \ "phaseMillis").children.map(p => (p \ "phase").extract[String] -> (p \ "millis").extract[Long]).toVector)
    val model = new PolicyTreeModel((meta \ "uid").extract[String], trained, (t \ "outputSignature").extract[String])
    setParams(meta, model, model.setDefaultValue(_, _))
    // Models saved before rewardType was recorded keep the type their fit used (e.g. 'ipw'), never today's default.
    if (!model.isSet(model.rewardType)) model.set(model.rewardType, trained.rewardType)
    val saved = (meta \ "signatures").extract[Map[String, String]]
    val loaded = scala.jdk.CollectionConverters.MapHasAsScala(model.signatures).asScala.toMap
    if (saved != loaded)
      throw new IllegalStateException(s"$path: the loaded model's signatures differ from the saved ones (corrupt or edited files): " +
        saved.keys.filter(k => saved.get(k) != loaded.get(k)).mkString(", "))
    model
  }
}

private[ml] final class PolicyTreeModelWriter(model: PolicyTreeModel, trained: TrainedTree, outputSignature: String) extends MLWriter {
  override protected def saveImpl(path: String): Unit = PolicyTreePersistence.save(model, trained, outputSignature, path, sparkSession)
}

private[ml] final class PolicyTreeModelReader extends MLReader[PolicyTreeModel] {
  override def load(path: String): PolicyTreeModel = PolicyTreePersistence.load(path, sparkSession)
}

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
    "nodesDerived" -> JInt(l.nodesDerived), "rowsHistogrammed" -> JInt(l.rowsHistogrammed),
    "binsReaching" -> JInt(l.binsReaching), "binsRefined" -> JInt(l.binsRefined), "nodesRefined" -> JInt(l.nodesRefined),
    "nodesExhaustive" -> JInt(l.nodesExhaustive))))

  private[ml] def levelsFrom(json: JValue): Vector[LevelStats] =
    json.children.map(l => LevelStats((l \ "depth").extract[Int], (l \ "frontierNodes").extract[Int],
      (l \ "featureBlocks").extract[Int], (l \ "nodeGroups").extract[Int], (l \ "recordsToDriver").extract[Int],
      (l \ "nodesSplit").extract[Int], (l \ "millis").extract[Long],
      orElse(l \ "peakNativeBytesPerTask", 0L), orElse(l \ "nodesBuilt", 0), orElse(l \ "nodesDerived", 0),
      orElse(l \ "rowsHistogrammed", -1L), orElse(l \ "binsReaching", 0), orElse(l \ "binsRefined", 0),
      orElse(l \ "nodesRefined", 0), orElse(l \ "nodesExhaustive", 0))).toVector

  /** A field older formats lack: `absent` then, but a value of another type fails (`extractOpt` would drop it silently). */
  private def orElse[T: Manifest](v: JValue, absent: T): T = if (v == JNothing) absent else v.extract[T]

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

  /** Loads a saved tree; a missing, corrupt or foreign save fails with an [[InvalidSavedModelException]] naming the part. */
  def load(path: String, spark: SparkSession): PolicyTreeModel = {
    val dir = new SavedModelDirectory(path, spark)
    val meta = dir.metadata(ModelClass, PolicyForestPersistence.ModelClass -> "PolicyForestModel.load")
    val version = meta.opt[Int]("formatVersion").getOrElse(0)
    if (version != FormatVersion && version != NumericFormatVersion)
      dir.fail("metadata", s"PolicyTreeModel format version $version; this release reads formats $NumericFormatVersion and " +
        s"$FormatVersion only${if (version > FormatVersion) " (saved by a newer release: upgrade to load it)" else ""}")
    val contract = meta.decode("contract")(c => Contract.fromJson(JsonMethods.compact(JsonMethods.render(c))))
    // Format 1 has no `categorical` column (every split numeric); format 2 must have it, or its category splits would read as numeric.
    val (columns, rows) = dir.nodeRows(nodeSchema.fields.toSeq, optional = if (version == FormatVersion) Set.empty else Set("categorical"))
    val nodes = rows.toVector.map(r => nodeOf(r, 0, columns.contains("categorical"))).sortBy(_.id)
    val tree = NodeTable(contract.vocabulary.size, nodes)
    tree.structureProblem(contract.features.size).foreach(p => dir.fail("data", s"node table fails its structure checks: $p"))
    checkCategories(dir, contract, tree, "node table")
    val trained = TrainedTree(tree, contract, meta.field[String]("training.rewardType"), meta.field[Int]("training.rewardShift"),
      meta.field[Long]("training.numRows"), meta.decode("training.levels")(levelsFrom),
      meta.decode("training.decisions")(decisionsFrom), meta.field[Int]("training.bestArmOnTraining"),
      meta.field[String]("training.inputSignature"), meta.opt[Long]("training.droppedRows").getOrElse(0L),
      meta.opt[Long]("training.clippedPropensities").getOrElse(0L),
      phaseMillis = meta.decodeIfPresent("training.phaseMillis")(phaseMillisFrom).getOrElse(Vector.empty))
    val model = new PolicyTreeModel(meta.field[String]("uid"), trained, meta.field[String]("training.outputSignature"))
    meta.decode("paramMap")(_ => setParams(meta.json, model, model.setDefaultValue(_, _)))
    // Models saved before rewardType was recorded keep the type their fit used (e.g. 'ipw'), never today's default.
    if (!model.isSet(model.rewardType)) model.set(model.rewardType, trained.rewardType)
    checkSignatures(dir, meta, model.signatures)
    model
  }

  /** A node from `r`'s node-table columns from index `at` on (`nodeSchema`'s order), `categorical` when the row has it. */
  private[ml] def nodeOf(r: Row, at: Int, categorical: Boolean): TreeNode =
    TreeNode(r.getInt(at), r.getBoolean(at + 1), r.getInt(at + 2), r.getDouble(at + 3), r.getInt(at + 4), r.getBoolean(at + 5),
      r.getInt(at + 6), r.getLong(at + 7), r.getSeq[Double](at + 8).toVector, categorical && r.getBoolean(at + 9))

  /** Category splits only on categorical features, each on one of its codes (`render` and the scorer index labels by code). */
  private[ml] def checkCategories(dir: SavedModelDirectory, contract: Contract, tree: NodeTable, what: String): Unit =
    tree.nodes.filter(n => !n.isLeaf && n.categorical).foreach { n =>
      val f = contract.features(n.feature)
      val codes = f.categories.map(_.size).getOrElse(
        dir.fail("data", s"$what fails its structure checks: split node ${n.id} is a category split on numeric feature '${f.name}'"))
      if (n.threshold != n.threshold.floor || n.threshold < 0 || n.threshold >= codes)
        dir.fail("data", s"$what fails its structure checks: split node ${n.id} splits '${f.name}' on code ${n.threshold}; " +
          s"it has codes 0..${codes - 1}")
    }

  private[ml] def phaseMillisFrom(json: JValue): Vector[(String, Long)] =
    json.children.map(p => (p \ "phase").extract[String] -> (p \ "millis").extract[Long]).toVector

  /** The saved signatures must be the loaded model's: anything else is a corrupt or edited save. */
  private[ml] def checkSignatures(dir: SavedModelDirectory, meta: SavedMetadata, signatures: java.util.Map[String, String]): Unit = {
    val saved = meta.field[Map[String, String]]("signatures")
    val loaded = scala.jdk.CollectionConverters.MapHasAsScala(signatures).asScala.toMap
    if (saved != loaded)
      dir.fail("signatures", "the loaded model's signatures differ from those in its metadata (corrupt or edited files): " +
        saved.keySet.union(loaded.keySet).filter(k => saved.get(k) != loaded.get(k)).toSeq.sorted.mkString(", "))
  }
}

private[ml] final class PolicyTreeModelWriter(model: PolicyTreeModel, trained: TrainedTree, outputSignature: String) extends MLWriter {
  override protected def saveImpl(path: String): Unit = PolicyTreePersistence.save(model, trained, outputSignature, path, sparkSession)
}

private[ml] final class PolicyTreeModelReader extends MLReader[PolicyTreeModel] {
  override def load(path: String): PolicyTreeModel = PolicyTreePersistence.load(path, sparkSession)
}

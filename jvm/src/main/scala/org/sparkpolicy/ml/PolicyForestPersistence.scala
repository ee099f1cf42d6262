package org.sparkpolicy.ml

import org.apache.hadoop.fs.Path
import org.apache.spark.ml.util.{MLReader, MLWriter}
import org.apache.spark.sql.{Row, SparkSession}
import org.apache.spark.sql.types._
import org.json4s._
import org.json4s.jackson.JsonMethods
import org.sparkpolicy.contract.Contract
import org.sparkpolicy.ml.model.NodeTable
import org.sparkpolicy.train.{ForestSettings, TrainedForest}

/**
 * A saved forest, in Spark ML's layout as a saved tree (`PolicyTreePersistence`, whose JSON helpers it
 * uses): `metadata/` one JSON line (class, params, format version, contract, signatures, the forest's
 * settings and each tree's decision log), `data/` every tree's node table as Parquet rows with a `tree` column.
 */
private[ml] object PolicyForestPersistence {
  val FormatVersion = 1
  val ModelClass = "org.sparkpolicy.ml.PolicyForestModel"

  private implicit val formats: Formats = DefaultFormats
  private val schema = StructType(StructField("tree", IntegerType, nullable = false) +: PolicyTreePersistence.nodeSchema.fields)

  def save(model: PolicyForestModel, trained: TrainedForest, outputSignature: String, path: String, spark: SparkSession): Unit = {
    import PolicyTreePersistence.{decisionsJson, levelsJson, paramsJson}
    val s = trained.settings
    val metadata = JObject(
      "class" -> JString(ModelClass),
      "timestamp" -> JInt(System.currentTimeMillis()),
      "sparkVersion" -> JString(spark.version),
      "uid" -> JString(model.uid),
      "paramMap" -> paramsJson(model, explicit = true),
      "defaultParamMap" -> paramsJson(model, explicit = false),
      "formatVersion" -> JInt(FormatVersion),
      "contract" -> JsonMethods.parse(trained.contract.toJson),
      "signatures" -> JObject(model.signatures.entrySet().toArray(Array.empty[java.util.Map.Entry[String, String]]).toList
        .map(e => e.getKey -> JString(e.getValue))),
      "training" -> JObject(
        "rewardType" -> JString(trained.rewardType), "rewardShift" -> JInt(trained.rewardShift), "numRows" -> JInt(trained.nRows),
        "inputSignature" -> JString(trained.inputSignature), "outputSignature" -> JString(outputSignature),
        "droppedRows" -> JInt(trained.droppedRows), "clippedPropensities" -> JInt(trained.clippedPropensities),
        "numTrees" -> JInt(s.numTrees), "subsamplingRate" -> JDouble(s.subsamplingRate),
        "featureSubsetStrategy" -> JString(s.featureSubsetStrategy), "honest" -> JBool(s.honest), "seed" -> JInt(s.seed),
        "featureSubsetSize" -> JInt(trained.featureSubsetSize), "bestArms" -> JArray(trained.bestArms.toList.map(JInt(_))),
        "bestArm" -> JInt(trained.bestArm),
        "levels" -> levelsJson(trained.levels), "decisions" -> JArray(trained.decisions.toList.map(decisionsJson)),
        "phaseMillis" -> JArray(trained.phaseMillis.toList.map { case (p, ms) => JObject("phase" -> JString(p), "millis" -> JInt(ms)) })))
    spark.sparkContext.parallelize(Seq(JsonMethods.compact(JsonMethods.render(metadata))), 1)
      .saveAsTextFile(new Path(path, "metadata").toString)
    val rows = trained.trees.zipWithIndex.flatMap { case (tree, t) =>
      tree.nodes.map(n => Row(t, n.id, n.isLeaf, n.feature, n.threshold, n.thresholdBin, n.missingLeft, n.arm, n.count, n.values,
        n.categorical))
    }
    spark.createDataFrame(spark.sparkContext.parallelize(rows, 1), schema).write.parquet(new Path(path, "data").toString)
  }

  /** Loads a saved forest; a missing, corrupt or foreign save fails with an [[InvalidSavedModelException]] naming the part. */
  def load(path: String, spark: SparkSession): PolicyForestModel = {
    import PolicyTreePersistence.{checkCategories, checkSignatures, decisionsFrom, levelsFrom, nodeOf, phaseMillisFrom, setParams}
    val dir = new SavedModelDirectory(path, spark)
    val meta = dir.metadata(ModelClass, PolicyTreePersistence.ModelClass -> "PolicyTreeModel.load")
    val version = meta.opt[Int]("formatVersion").getOrElse(0)
    if (version != FormatVersion)
      dir.fail("metadata", s"PolicyForestModel format version $version; this release reads format $FormatVersion only" +
        (if (version > FormatVersion) " (saved by a newer release: upgrade to load it)" else ""))
    val contract = meta.decode("contract")(c => Contract.fromJson(JsonMethods.compact(JsonMethods.render(c))))
    val numTrees = meta.field[Int]("training.numTrees")
    if (numTrees < 1) dir.fail("metadata", s"field 'training.numTrees' is $numTrees; a forest has at least one tree")
    val decisions = meta.decode("training.decisions")(_.children.map(decisionsFrom).toVector)
    val bestArms = meta.field[Vector[Int]]("training.bestArms")
    Seq("training.decisions" -> decisions.size, "training.bestArms" -> bestArms.size).foreach { case (name, n) =>
      if (n != numTrees) dir.fail("metadata", s"field '$name' has $n entries; 'training.numTrees' is $numTrees")
    }
    val byTree = dir.nodeRows(schema.fields.toSeq, optional = Set.empty)._2.groupBy(_.getInt(0))
    val strays = byTree.keys.filter(i => i < 0 || i >= numTrees).toSeq.sorted
    val missing = (0 until numTrees).filterNot(byTree.contains)
    if (strays.nonEmpty || missing.nonEmpty)
      dir.fail("data", s"the tree column does not match the metadata's $numTrees trees (0..${numTrees - 1}): " +
        Seq(Option.when(strays.nonEmpty)(s"rows for tree ${strays.take(5).mkString(", ")}"),
          Option.when(missing.nonEmpty)(s"no rows for tree ${missing.take(5).mkString(", ")}")).flatten.mkString("; "))
    val trees = (0 until numTrees).toVector.map { i =>
      val tree = NodeTable(contract.vocabulary.size, byTree(i).toVector.map(nodeOf(_, 1, categorical = true)).sortBy(_.id))
      tree.structureProblem(contract.features.size).foreach(p => dir.fail("data", s"tree $i's node table fails its structure checks: $p"))
      checkCategories(dir, contract, tree, s"tree $i's node table")
      tree
    }
    val settings = ForestSettings(numTrees, meta.field[Double]("training.subsamplingRate"),
      meta.field[String]("training.featureSubsetStrategy"), meta.field[Boolean]("training.honest"), meta.field[Long]("training.seed"))
    val trained = TrainedForest(trees, decisions, contract, meta.field[String]("training.rewardType"),
      meta.field[Int]("training.rewardShift"), meta.field[Long]("training.numRows"), meta.decode("training.levels")(levelsFrom),
      meta.field[String]("training.inputSignature"), meta.field[Long]("training.droppedRows"),
      meta.field[Long]("training.clippedPropensities"), None, meta.decode("training.phaseMillis")(phaseMillisFrom), settings,
      meta.field[Int]("training.featureSubsetSize"), bestArms, meta.opt[Int]("training.bestArm").getOrElse(-1))
    val model = new PolicyForestModel(meta.field[String]("uid"), trained, meta.field[String]("training.outputSignature"))
    meta.decode("paramMap")(_ => setParams(meta.json, model, model.setDefaultValue(_, _)))
    checkSignatures(dir, meta, model.signatures)
    model
  }
}

private[ml] final class PolicyForestModelWriter(model: PolicyForestModel, trained: TrainedForest, outputSignature: String)
    extends MLWriter {
  override protected def saveImpl(path: String): Unit = PolicyForestPersistence.save(model, trained, outputSignature, path, sparkSession)
}

private[ml] final class PolicyForestModelReader extends MLReader[PolicyForestModel] {
  override def load(path: String): PolicyForestModel = PolicyForestPersistence.load(path, sparkSession)
}

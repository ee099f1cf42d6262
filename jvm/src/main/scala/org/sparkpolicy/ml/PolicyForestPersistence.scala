package org.sparkpolicy.ml

import org.apache.hadoop.fs.Path
import org.apache.spark.ml.util.{MLReader, MLWriter}
import org.apache.spark.sql.{Row, SparkSession}
import org.apache.spark.sql.types._
import org.json4s._
import org.json4s.jackson.JsonMethods
import org.sparkpolicy.contract.Contract
import org.sparkpolicy.ml.model.{NodeTable, TreeNode}
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

  def load(path: String, spark: SparkSession): PolicyForestModel = {
    import PolicyTreePersistence.{decisionsFrom, levelsFrom, setParams}
    val meta = JsonMethods.parse(spark.sparkContext.textFile(new Path(path, "metadata").toString, 1).first())
    val cls = (meta \ "class").extract[String]
    if (cls != ModelClass) throw new IllegalArgumentException(s"$path holds a $cls, not a $ModelClass")
    val version = (meta \ "formatVersion").extractOpt[Int].getOrElse(0)
    if (version != FormatVersion)
      throw new IllegalArgumentException(s"$path was saved in PolicyForestModel format version $version; this version reads " +
        s"format $FormatVersion only${if (version > FormatVersion) " (saved by a newer release: upgrade to load it)" else ""}")
    val contract = Contract.fromJson(JsonMethods.compact(JsonMethods.render(meta \ "contract")))
    val t = meta \ "training"
    val byTree = spark.read.parquet(new Path(path, "data").toString).collect().groupBy(_.getInt(0))
    val numTrees = (t \ "numTrees").extract[Int]
    val trees = (0 until numTrees).toVector.map { i =>
      val nodes = byTree.getOrElse(i, throw new IllegalStateException(s"$path: tree $i of $numTrees has no nodes")).toVector.map { r =>
        TreeNode(r.getInt(1), r.getBoolean(2), r.getInt(3), r.getDouble(4), r.getInt(5), r.getBoolean(6), r.getInt(7), r.getLong(8),
          r.getSeq[Double](9).toVector, r.getBoolean(10))
      }.sortBy(_.id)
      NodeTable(contract.vocabulary.size, nodes)
    }
    val settings = ForestSettings(numTrees, (t \ "subsamplingRate").extract[Double], (t \ "featureSubsetStrategy").extract[String],
      (t \ "honest").extract[Boolean], (t \ "seed").extract[Long])
    val trained = TrainedForest(trees, (t \ "decisions").children.map(decisionsFrom).toVector, contract,
      (t \ "rewardType").extract[String], (t \ "rewardShift").extract[Int], (t \ "numRows").extract[Long], levelsFrom(t \ "levels"),
      (t \ "inputSignature").extract[String], (t \ "droppedRows").extract[Long], (t \ "clippedPropensities").extract[Long], None,
      (t \ "phaseMillis").children.map(p => (p \ "phase").extract[String] -> (p \ "millis").extract[Long]).toVector, settings,
      (t \ "featureSubsetSize").extract[Int], (t \ "bestArms").extract[Vector[Int]], (t \ "bestArm").extractOrElse[Int](-1))
    val model = new PolicyForestModel((meta \ "uid").extract[String], trained, (t \ "outputSignature").extract[String])
    setParams(meta, model, model.setDefaultValue(_, _))
    val saved = (meta \ "signatures").extract[Map[String, String]]
    val loaded = scala.jdk.CollectionConverters.MapHasAsScala(model.signatures).asScala.toMap
    if (saved != loaded)
      throw new IllegalStateException(s"$path: the loaded forest's signatures differ from the saved ones (corrupt or edited files): " +
        saved.keys.filter(k => saved.get(k) != loaded.get(k)).mkString(", "))
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

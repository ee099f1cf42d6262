package org.sparkpolicy.ml

import java.nio.charset.StandardCharsets.UTF_8
import java.nio.file.{Files, Path, StandardCopyOption}

import scala.jdk.CollectionConverters._

import org.apache.spark.ml.feature.StringIndexer
import org.apache.spark.sql.DataFrame
import org.apache.spark.sql.functions.{col, lit, when}
import org.json4s._
import org.json4s.jackson.JsonMethods
import org.scalatest.funsuite.AnyFunSuite
import org.sparkpolicy.SparkTestSession
import org.sparkpolicy.ml.model.NodeTable
import org.sparkpolicy.synthetic.PlantedPolicyData

/**
 * Issue #13: a missing, corrupt or foreign save fails to load with an [[InvalidSavedModelException]] whose message names
 * the directory and the part at fault (`metadata`, `data`, `signatures`), never with a Spark job's failure.
 */
class CorruptSaveSuite extends AnyFunSuite with SparkTestSession {
  private lazy val data = PlantedPolicyData.generate(spark, 2000, numFeatures = 3, numPartitions = 2).cache()
  private lazy val tree = new PolicyTreeLearner().setFeatureCols(PlantedPolicyData.featureNames(3)).setRewardCols(Array("g0", "g1", "g2"))
    .setTreatmentVocabulary(PlantedPolicyData.Arms.toArray).setMaxDepth(2).fit(data)
  private lazy val forest = new PolicyForestLearner().setFeatureCols(PlantedPolicyData.featureNames(3))
    .setRewardCols(Array("g0", "g1", "g2")).setTreatmentVocabulary(PlantedPolicyData.Arms.toArray).setMaxDepth(2).setNumTrees(3).fit(data)

  /** Everything the suite writes goes under one directory, deleted when it ends. */
  private lazy val scratch = Files.createTempDirectory("sparkpolicy-corrupt-save")
  private def tempDir(prefix: String): Path = Files.createTempDirectory(scratch, prefix)
  private def deleteTree(p: Path): Unit = Files.walk(p).iterator().asScala.toList.reverse.foreach(Files.delete)

  override def afterAll(): Unit = try if (Files.exists(scratch)) deleteTree(scratch) finally super.afterAll()

  /** How each kind of model is saved and loaded, the other kind's save, and its (first) tree. */
  private case class Kind(name: String, cls: String, save: String => Unit, load: String => Any, other: String => Unit, table: NodeTable)
  private lazy val kinds = Seq(
    Kind("tree", PolicyTreePersistence.ModelClass, tree.write.save, PolicyTreeModel.load, forest.write.save, tree.nodeTable),
    Kind("forest", PolicyForestPersistence.ModelClass, forest.write.save, PolicyForestModel.load, tree.write.save, forest.nodeTables.head))

  private lazy val saved: Map[String, Path] = kinds.map { k =>
    val dir = tempDir(k.name).resolve("model")
    k.save(dir.toString)
    k.name -> dir
  }.toMap

  /** A fresh copy of `kind`'s saved model to corrupt. */
  private def copyOf(kind: Kind): Path = {
    val to = tempDir(s"corrupt-${kind.name}").resolve("model")
    val from = saved(kind.name)
    Files.walk(from).iterator().asScala.toList.foreach(p => Files.copy(p, to.resolve(from.relativize(p).toString)))
    to
  }

  private def part(dir: Path, sub: String): Path =
    Files.list(dir.resolve(sub)).iterator().asScala.find(_.getFileName.toString.startsWith("part-")).get

  /** Replaces `file`'s bytes and drops Hadoop's checksum of it, so the reader sees the new bytes as written. */
  private def overwrite(file: Path, bytes: Array[Byte]): Unit = {
    Files.write(file, bytes)
    Files.deleteIfExists(file.resolveSibling(s".${file.getFileName}.crc"))
  }

  private def editMetadata(dir: Path)(edit: JValue => JValue): Unit = {
    val file = part(dir, "metadata")
    val json = edit(JsonMethods.parse(Files.readString(file)))
    overwrite(file, JsonMethods.compact(JsonMethods.render(json)).getBytes(UTF_8))
  }

  /** Replaces the node table under `dir/data` with `table` (computed from the saved one before it is deleted). */
  private def replaceData(dir: Path)(table: DataFrame => DataFrame): Unit = {
    val staged = tempDir("data").resolve("data")
    table(spark.read.parquet(dir.resolve("data").toString)).coalesce(1).write.parquet(staged.toString)
    deleteTree(dir.resolve("data"))
    Files.move(staged, dir.resolve("data"), StandardCopyOption.ATOMIC_MOVE)
  }

  /** `load(dir)` fails naming `dir`, `where` (a part, or "" for the directory) and every fragment. */
  private def refused(kind: Kind, dir: Path, where: String, fragments: String*): InvalidSavedModelException = {
    val e = intercept[InvalidSavedModelException](kind.load(dir.toString))
    val msg = e.getMessage
    assert(e.path == dir.toString && e.part == where, msg)
    assert(msg.startsWith(if (where.isEmpty) dir.toString else s"$dir/$where"), msg)
    fragments.foreach(f => assert(msg.contains(f), s"'$f' not in: $msg"))
    assert(!msg.contains("Job aborted"), msg)
    info(s"${kind.name}: ${msg.replace(dir.toString, "<path>")}")
    e
  }

  private def eachKind(name: String)(body: Kind => Unit): Unit = test(name)(kinds.foreach(body))

  eachKind("the saves load back: the corruptions below are all that breaks them") { k =>
    k.load(copyOf(k).toString)
  }

  eachKind("a missing path, a plain file and a directory with no metadata") { k =>
    val nowhere = tempDir("none").resolve("model")
    refused(k, nowhere, "", "does not exist")
    Files.writeString(nowhere, "not a model")
    refused(k, nowhere, "", "is a file")
    val dir = copyOf(k)
    refused(k, dir.resolve("data"), "metadata", "missing")
  }

  eachKind("empty, truncated, non-JSON and checksum-failing metadata") { k =>
    val dir = copyOf(k)
    val file = part(dir, "metadata")
    val json = Files.readAllBytes(file)
    val crc = Files.readAllBytes(file.resolveSibling(s".${file.getFileName}.crc"))
    overwrite(file, Array.emptyByteArray)
    refused(k, dir, "metadata", "empty")
    val line = json.lastIndexWhere(_ != '\n'.toByte) + 1 // Spark writes the line with its newline
    // Cut anywhere (in a name, a string, a number, a literal, between tokens), the line reads as truncated: at every
    // character of its start (class, params, the contract's strings, nulls and numbers), inside a boolean, every 997th after.
    val text = new String(json, UTF_8)
    val inLiterals = Seq(":true", ":false", ":null").flatMap { l =>
      val at = text.indexOf(l)
      if (at < 0) Nil else at + 2 until at + l.length
    }
    ((1 until 1800) ++ (1800 until line by 997) ++ inLiterals).foreach { cut =>
      overwrite(file, json.take(cut))
      val e = intercept[InvalidSavedModelException](k.load(dir.toString))
      assert(e.getMessage.startsWith(s"$dir/metadata: truncated JSON"), s"cut at $cut (...${text.slice(cut - 20, cut)}): ${e.getMessage}")
    }
    overwrite(file, json.take(line - 1))
    refused(k, dir, "metadata", "truncated JSON")
    overwrite(file, "\u0000\u0017garbage {".getBytes(UTF_8))
    refused(k, dir, "metadata", "not valid JSON")
    overwrite(file, "[1, 2]".getBytes(UTF_8))
    refused(k, dir, "metadata", "not an object")
    // Bit rot under an intact checksum: Hadoop's local file system refuses the bytes.
    Files.write(file, json.map(b => if (b == '"'.toByte) '\''.toByte else b))
    Files.write(file.resolveSibling(s".${file.getFileName}.crc"), crc)
    refused(k, dir, "metadata", "cannot be read", "ChecksumException")
  }

  test("another Spark ML stage's save, and a tree and a forest loaded as each other") {
    val indexerDir = tempDir("indexer").resolve("stage")
    new StringIndexer().setInputCol("holdout_label").setOutputCol("i").fit(data.withColumn("holdout_label", col("holdout").cast("string")))
      .write.save(indexerDir.toString)
    kinds.foreach { k =>
      refused(k, indexerDir, "metadata", "says class org.apache.spark.ml.feature.StringIndexerModel", s"expected ${k.cls}")
      val other = tempDir("other").resolve("model")
      k.other(other.toString)
      val e = refused(k, other, "metadata", s"expected ${k.cls}", ".load)")
      assert(e.getMessage.contains(if (k.name == "tree") "PolicyForestModel.load" else "PolicyTreeModel.load"), e.getMessage)
    }
  }

  eachKind("a newer format version, a missing metadata field and a field of the wrong type") { k =>
    val dir = copyOf(k)
    editMetadata(dir)(_.replace(List("formatVersion"), JInt(99)))
    refused(k, dir, "metadata", "format version 99", "upgrade to load it")
    val other = copyOf(k)
    editMetadata(other)(json => json.replace(List("training"), (json \ "training").removeField(_._1 == "numRows")))
    refused(k, other, "metadata", "has no field 'training.numRows'")
    val wrong = copyOf(k)
    editMetadata(wrong)(_.replace(List("training", "rewardShift"), JString("lots")))
    refused(k, wrong, "metadata", "field 'training.rewardShift' is not an integer")
    val contract = copyOf(k)
    editMetadata(contract)(_.replace(List("contract"), JString("?")))
    refused(k, contract, "metadata", "field 'contract' cannot be read")
  }

  eachKind("a missing data directory and garbage bytes in place of the Parquet file") { k =>
    val dir = copyOf(k)
    overwrite(part(dir, "data"), "PAR1 but not really a parquet file".getBytes(UTF_8))
    refused(k, dir, "data", "not a Parquet node table", part(dir, "data").getFileName.toString)
    deleteTree(dir.resolve("data"))
    refused(k, dir, "data", "missing")
  }

  eachKind("a Parquet file that is not a node table: missing columns, a column of the wrong type, nulls") { k =>
    val dir = copyOf(k)
    replaceData(dir)(_ => spark.range(3).toDF("node"))
    refused(k, dir, "data", s"no column '${if (k.name == "forest") "tree" else "node_id"}' (int); its columns: node")
    replaceData(dir)(_ => spark.read.parquet(saved(k.name).resolve("data").toString).drop("threshold"))
    refused(k, dir, "data", "no column 'threshold' (double)")
    replaceData(dir)(_ => spark.read.parquet(saved(k.name).resolve("data").toString).withColumn("arm", col("arm").cast("string")))
    refused(k, dir, "data", "column 'arm' is string; expected int")
    replaceData(dir)(_ => spark.read.parquet(saved(k.name).resolve("data").toString)
      .withColumn("count", when(col("node_id") === 2, lit(null).cast("long")).otherwise(col("count"))))
    refused(k, dir, "data", "column 'count' holds a null")
    if (k.name == "forest") {
      replaceData(dir)(_ => spark.read.parquet(saved(k.name).resolve("data").toString).drop("categorical"))
      refused(k, dir, "data", "no column 'categorical' (boolean)")
    }
  }

  eachKind("a node table with a broken structure: a missing child, a leaf's arm out of range, values per arm") { k =>
    val dir = copyOf(k)
    val prefix = if (k.name == "forest") "tree 0's node table" else "node table"
    val tree0 = if (k.name == "forest") col("tree") === 0 else lit(true)
    assert(!k.table.root.isLeaf, k.table)
    val leaf = k.table.leaves.head.id
    replaceData(dir)(_.where(!(tree0 && col("node_id") === 3)))
    refused(k, dir, "data", s"$prefix fails its structure checks: split node 1 is missing its child 3")
    val arms = copyOf(k)
    replaceData(arms)(_.withColumn("arm", when(tree0 && col("node_id") === leaf, lit(7)).otherwise(col("arm"))))
    refused(k, arms, "data", s"$prefix fails its structure checks: leaf $leaf has arm 7; expected 0..2")
    val values = copyOf(k)
    replaceData(values)(_.withColumn("values", when(tree0 && col("node_id") === 1, lit(Array(1.0))).otherwise(col("values"))))
    refused(k, values, "data", s"$prefix fails its structure checks: node 1 has 1 values; expected one per arm (3)")
  }

  test("a forest's tree column inconsistent with its tree count") {
    val k = kinds.find(_.name == "forest").get
    val dir = copyOf(k)
    replaceData(dir)(_.withColumn("tree", when(col("tree") === 2, lit(5)).otherwise(col("tree"))))
    refused(k, dir, "data", "does not match the metadata's 3 trees", "rows for tree 5", "no rows for tree 2")
    val fewer = copyOf(k)
    editMetadata(fewer)(_.replace(List("training", "numTrees"), JInt(2)))
    refused(k, fewer, "metadata", "field 'training.decisions' has 3 entries; 'training.numTrees' is 2")
  }

  eachKind("a well-formed node table that is not the saved one fails its signatures") { k =>
    val dir = copyOf(k)
    replaceData(dir)(_.withColumn("count", col("count") + 1))
    refused(k, dir, "signatures", "differ from those in its metadata", "model")
  }
}

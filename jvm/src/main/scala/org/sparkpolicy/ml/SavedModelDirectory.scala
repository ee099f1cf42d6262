package org.sparkpolicy.ml

import java.nio.charset.StandardCharsets

import scala.util.control.NonFatal

import org.apache.hadoop.fs.{FileStatus, FileSystem, Path}
import org.apache.parquet.hadoop.ParquetFileReader
import org.apache.parquet.hadoop.util.HadoopInputFile
import org.apache.spark.sql.{Row, SparkSession}
import org.apache.spark.sql.types.{ArrayType, DataType, StructField}
import org.json4s._
import org.json4s.jackson.JsonMethods

/**
 * A saved model that cannot be loaded: the directory at `path` is missing, corrupt, or another stage's. `part` names
 * what is at fault (`""` for the directory itself, `metadata`, `data`, `signatures`), and so does the message.
 */
final class InvalidSavedModelException(val path: String, val part: String, message: String, cause: Throwable)
    extends IllegalArgumentException(message, cause)

/**
 * The reading side of a saved model's directory in Spark ML's layout (`metadata/` one JSON line, `data/` Parquet),
 * for `PolicyTreePersistence` and `PolicyForestPersistence`. Every way a read can fail becomes an
 * [[InvalidSavedModelException]] naming the path and the part, before Spark gets to fail a job on it: the metadata
 * is read on the driver, and each data file's Parquet footer is checked before Spark reads any of them.
 */
private[ml] final class SavedModelDirectory(val path: String, spark: SparkSession) {
  private val root = new Path(path)
  private val conf = OutcomeModelPersistence.hadoopConf(spark)

  private def where(part: String): String = if (part.isEmpty) path else s"${path.stripSuffix("/")}/$part"

  def fail(part: String, detail: String, cause: Throwable = null): Nothing =
    throw new InvalidSavedModelException(path, part, s"${where(part)}: $detail", cause)

  private val fs: FileSystem =
    try root.getFileSystem(conf) catch { case NonFatal(e) => fail("", s"cannot open its file system (${SavedModelDirectory.describe(e)})", e) }

  private def status(p: Path, part: String): Option[FileStatus] =
    try Some(fs.getFileStatus(p)) catch {
      case _: java.io.FileNotFoundException => None
      case NonFatal(e) => fail(part, s"cannot be read (${SavedModelDirectory.describe(e)})", e)
    }

  /** The files Spark reads under `part` (its name, or a directory's visible files: not `_SUCCESS`, not `.crc`). */
  private def files(part: String, what: String): Seq[FileStatus] = {
    val dir = status(new Path(root, part), part).getOrElse(fail(part, s"missing ($what)"))
    val visible = if (!dir.isDirectory) Seq(dir) else
      try fs.listStatus(dir.getPath).toSeq.filter(s => s.isFile && !s.getPath.getName.startsWith("_") && !s.getPath.getName.startsWith("."))
      catch { case NonFatal(e) => fail(part, s"cannot be listed (${SavedModelDirectory.describe(e)})", e) }
    if (visible.isEmpty) fail(part, s"has no file ($what)")
    visible.sortBy(_.getPath.getName)
  }

  /** Fails unless `path` is a directory. */
  def requireDirectory(): Unit = status(root, "") match {
    case None => fail("", "no saved model here (the directory does not exist)")
    case Some(s) if !s.isDirectory => fail("", "is a file, not a saved model's directory (metadata/ and data/)")
    case _ =>
  }

  /** The metadata's JSON object, checked to be a saved `expectedClass` ("another stage's" otherwise, with its class). */
  def metadata(expectedClass: String, sibling: (String, String)): SavedMetadata = {
    requireDirectory()
    val file = files("metadata", "not a saved Spark ML stage").head
    val text = try {
      val in = fs.open(file.getPath)
      try new String(in.readAllBytes(), StandardCharsets.UTF_8) finally in.close()
    } catch { case NonFatal(e) => fail("metadata", s"cannot be read (${SavedModelDirectory.describe(e)})", e) }
    val line = text.linesIterator.nextOption().getOrElse("")
    if (line.trim.isEmpty) fail("metadata", "empty (no JSON line)")
    val json = try JsonMethods.parse(line) catch {
      case NonFatal(e) =>
        val what = if (SavedModelDirectory.endsEarly(e, line.length)) "truncated JSON" else "not valid JSON"
        fail("metadata", s"$what (${SavedModelDirectory.jsonError(e)})", e)
    }
    if (!json.isInstanceOf[JObject]) fail("metadata", "is JSON but not an object: not a saved Spark ML stage")
    json \ "class" match {
      case JString(`expectedClass`) =>
      case JString(other) =>
        val hint = if (other == sibling._1) s" (load it with ${sibling._2})" else ""
        throw new InvalidSavedModelException(path, "metadata", s"${where("metadata")} says class $other; expected $expectedClass$hint", null)
      case _ => fail("metadata", "has no 'class' field: not a saved Spark ML stage")
    }
    new SavedMetadata(this, json)
  }

  /**
   * The node-table rows of `data/`, holding `columns` in that order (`optional` ones only where the files have them;
   * the others are required), with the names of those present. Any column Spark reads as null fails the load.
   */
  def nodeRows(columns: Seq[StructField], optional: Set[String]): (Seq[String], Array[Row]) = {
    val dataFiles = files("data", "the node table's Parquet files")
    dataFiles.foreach { f =>
      try ParquetFileReader.open(HadoopInputFile.fromStatus(f, conf)).close() catch {
        case NonFatal(e) =>
          val why = SavedModelDirectory.describe(e)
          fail("data", s"not a Parquet node table (${if (why.contains(f.getPath.getName)) why else s"${f.getPath.getName}: $why"})", e)
      }
    }
    val frame = try spark.read.parquet(new Path(root, "data").toString) catch {
      case NonFatal(e) => fail("data", s"not a Parquet node table (${SavedModelDirectory.describe(e)})", e)
    }
    val found = frame.schema.fields.map(f => f.name -> f.dataType).toMap
    val present = columns.filter { c =>
      found.get(c.name) match {
        case None if optional(c.name) => false
        case None => fail("data", s"node table has no column '${c.name}' (${c.dataType.simpleString}); its columns: " +
            frame.schema.fieldNames.mkString(", "))
        case Some(t) if !SavedModelDirectory.sameType(t, c.dataType) =>
          fail("data", s"node table column '${c.name}' is ${t.simpleString}; expected ${c.dataType.simpleString}")
        case Some(_) => true
      }
    }
    val rows = try frame.select(present.map(c => frame.col(s"`${c.name}`")): _*).collect() catch {
      case NonFatal(e) => fail("data", s"cannot be read (${SavedModelDirectory.describe(e)})", e)
    }
    rows.foreach { r =>
      present.indices.foreach { i =>
        val nullInside = !r.isNullAt(i) && present(i).dataType.isInstanceOf[ArrayType] && r.getSeq[Any](i).contains(null)
        if (r.isNullAt(i) || nullInside) fail("data", s"node table column '${present(i).name}' holds a null")
      }
    }
    (present.map(_.name), rows)
  }
}

/** A saved model's metadata JSON, whose fields fail the load with their name when absent or of another type. */
private[ml] final class SavedMetadata(dir: SavedModelDirectory, val json: JValue) {
  private implicit val formats: Formats = DefaultFormats

  private def at(name: String): JValue = name.split('.').foldLeft(json)(_ \ _)

  /** `name` (dotted: `training.numRows`) as a `T`; absent or another type fails. */
  def field[T: Manifest](name: String): T = opt[T](name).getOrElse(dir.fail("metadata", s"has no field '$name'"))

  /** `name` as a `T` when present (older formats lack some fields); present but of another type fails. */
  def opt[T: Manifest](name: String): Option[T] = at(name) match {
    case JNothing | JNull => None
    case v => try Some(v.extract[T]) catch {
        case NonFatal(e) => dir.fail("metadata", s"field '$name' is not ${SavedModelDirectory.jsonKind(manifest[T].runtimeClass)} " +
            s"(${SavedModelDirectory.firstLine(e.getMessage)})", e)
      }
  }

  /** What `decode` makes of the field `name` (a structure: the contract, a decision log), its failure naming it. */
  def decode[T](name: String)(decode: JValue => T): T =
    decodeIfPresent(name)(decode).getOrElse(dir.fail("metadata", s"has no field '$name'"))

  /** `decode` of the field `name` when present (older formats lack some); a failure names the field. */
  def decodeIfPresent[T](name: String)(decode: JValue => T): Option[T] = at(name) match {
    case JNothing => None
    case v => try Some(decode(v)) catch {
        case e: InvalidSavedModelException => throw e
        case NonFatal(e) => dir.fail("metadata", s"field '$name' cannot be read (${SavedModelDirectory.describe(e)})", e)
      }
  }
}

private[ml] object SavedModelDirectory {
  def firstLine(s: String): String = String.valueOf(s).linesIterator.nextOption().getOrElse("").take(300)

  /** The innermost cause's class and first line: a Spark job's failure wraps what went wrong in its stage's report. */
  def describe(e: Throwable): String = {
    var c = e
    while (c.getCause != null && c.getCause != c) c = c.getCause
    s"${c.getClass.getSimpleName}: ${firstLine(c.getMessage)}"
  }

  /**
   * Whether a JSON parse failed at the end of the text: a line cut short (mid-number, mid-string, an object left open)
   * rather than one with a wrong character inside.
   */
  def endsEarly(e: Throwable, length: Int): Boolean =
    Iterator.iterate(e)(_.getCause).takeWhile(_ != null).exists {
      case j: com.fasterxml.jackson.core.JsonProcessingException =>
        // Or at its last character (a number cut after its '.', a literal cut short): one line, so the column places it.
        String.valueOf(j.getOriginalMessage).contains("end-of-input") ||
          Option(j.getLocation).exists(l => math.max(l.getCharOffset, l.getColumnNr - 1L) >= length - 1)
      case _ => false
    }

  /** A JSON parse failure in one line: what the parser expected and where (without its source-location boilerplate). */
  def jsonError(e: Throwable): String = Iterator.iterate(e)(_.getCause).takeWhile(_ != null).collectFirst {
    case j: com.fasterxml.jackson.core.JsonProcessingException =>
      val what = firstLine(j.getOriginalMessage).split(" \\(start marker at ").head
      Option(j.getLocation).filter(_.getColumnNr > 0).fold(what)(l => s"$what, at character ${l.getColumnNr}")
  }.getOrElse(describe(e))

  /** How a field's expected type reads in a message. */
  def jsonKind(c: Class[_]): String = c match {
    case java.lang.Integer.TYPE | java.lang.Long.TYPE => "an integer"
    case java.lang.Double.TYPE => "a number"
    case java.lang.Boolean.TYPE => "a boolean"
    case _ if c == classOf[String] => "a string"
    case _ if classOf[collection.Map[_, _]].isAssignableFrom(c) => "an object"
    case _ if classOf[collection.Seq[_]].isAssignableFrom(c) => "an array"
    case _ => s"a ${c.getSimpleName}"
  }

  /** Parquet reads columns back nullable; only the types matter. */
  def sameType(found: DataType, expected: DataType): Boolean = (found, expected) match {
    case (ArrayType(f, _), ArrayType(e, _)) => sameType(f, e)
    case _ => found == expected
  }
}

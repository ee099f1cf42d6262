package org.sparkpolicy.ml

import org.apache.hadoop.fs.Path
import org.apache.spark.ml.Estimator
import org.apache.spark.ml.param.Params
import org.apache.spark.ml.util.{MLReader, MLWritable, MLWriter}
import org.apache.spark.sql.SparkSession
import org.json4s.{DefaultFormats, Formats}
import org.json4s.jackson.JsonMethods

/**
 * A stage's optional external outcome regressor (`setOutcomeModel`), saved in the stage's
 * directory under `outcomeModel/` with its own writer, as Spark's Pipeline saves its stages.
 * A regressor that cannot be saved makes the save fail rather than silently dropping it.
 */
private[ml] object OutcomeModelPersistence {
  val Dir = "outcomeModel"

  /** `params` (the stage's own Params writer) plus the outcome regressor, if any. */
  final class Writer(owner: Params, outcome: Option[Estimator[_]], params: MLWriter) extends MLWriter {
    override protected def saveImpl(path: String): Unit = {
      val writable = outcome.map {
        case w: MLWritable => w
        case other => throw new UnsupportedOperationException(
          s"${owner.uid} cannot be saved: its outcome model ${other.getClass.getName} (${other.uid}) is not MLWritable; " +
            "use a Spark ML regressor, or save the stage without setOutcomeModel and set it again after loading")
      }
      params.session(sparkSession).save(path)
      writable.foreach(_.write.session(sparkSession).save(new Path(path, Dir).toString))
    }
  }

  /** The outcome regressor saved with the stage at `path`, if it had one. */
  def load(path: String, session: SparkSession): Option[Estimator[_]] = {
    val dir = new Path(path, Dir)
    if (!dir.getFileSystem(session.sparkContext.hadoopConfiguration).exists(dir)) None
    else {
      implicit val formats: Formats = DefaultFormats
      val metadata = JsonMethods.parse(session.sparkContext.textFile(new Path(dir, "metadata").toString, 1).first())
      val className = (metadata \ "class").extract[String]
      val reader = Class.forName(className, true, Thread.currentThread().getContextClassLoader).getMethod("read").invoke(null)
      Some(reader.asInstanceOf[MLReader[Estimator[_]]].session(session).load(dir.toString))
    }
  }
}

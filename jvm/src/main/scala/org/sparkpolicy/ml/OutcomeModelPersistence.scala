package org.sparkpolicy.ml

import org.apache.hadoop.conf.Configuration
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
 * A regressor that cannot be saved and loaded back fails the save rather than being dropped.
 */
private[ml] object OutcomeModelPersistence {
  val Dir = "outcomeModel"

  /**
   * `params` (the stage's own Params writer) plus the outcome regressor, if any. The regressor is
   * checked when the writer is made, before an overwrite clears anything; if saving it fails, the
   * half-written stage is deleted, so no save silently loads back without its regressor.
   */
  final class Writer(owner: Params, outcome: Option[Estimator[_]], params: MLWriter) extends MLWriter {
    private val regressor: Option[MLWritable] = outcome.map(writableAndReadable(owner, _))

    override protected def saveImpl(path: String): Unit = {
      params.session(sparkSession).save(path)
      try regressor.foreach(_.write.session(sparkSession).save(new Path(path, Dir).toString))
      catch {
        case e: Throwable =>
          val p = new Path(path)
          scala.util.Try(p.getFileSystem(hadoopConf(sparkSession)).delete(p, true))
          throw e
      }
    }
  }

  /** `params` (the stage's own Params reader), then the outcome regressor saved with them, if any. */
  final class Reader[S](params: => MLReader[S], setOutcomeModel: (S, Estimator[_]) => Unit) extends MLReader[S] {
    override def load(path: String): S = {
      val stage = params.session(sparkSession).load(path)
      OutcomeModelPersistence.load(path, sparkSession).foreach(setOutcomeModel(stage, _))
      stage
    }
  }

  private def writableAndReadable(owner: Params, outcome: Estimator[_]): MLWritable = {
    def refuse(why: String) = throw new UnsupportedOperationException(
      s"${owner.uid} cannot be saved: its outcome model ${outcome.getClass.getName} (${outcome.uid}) $why; " +
        "use a Spark ML regressor, or save the stage without setOutcomeModel and set it again after loading")
    outcome match {
      case w: MLWritable =>
        if (scala.util.Try(outcome.getClass.getMethod("read")).isFailure) refuse("has no static read method to load it back")
        w
      case _ => refuse("is not MLWritable")
    }
  }

  /** The outcome regressor saved with the stage at `path`, if it had one. */
  def load(path: String, session: SparkSession): Option[Estimator[_]] = {
    val dir = new Path(path, Dir)
    if (!dir.getFileSystem(hadoopConf(session)).exists(dir)) None
    else {
      implicit val formats: Formats = DefaultFormats
      val metadata = JsonMethods.parse(session.read.text(new Path(dir, "metadata").toString).head().getString(0))
      val className = (metadata \ "class").extract[String]
      val loader = Option(Thread.currentThread().getContextClassLoader).getOrElse(getClass.getClassLoader)
      val reader = Class.forName(className, true, loader).getMethod("read").invoke(null)
      Some(reader.asInstanceOf[MLReader[Estimator[_]]].session(session).load(dir.toString))
    }
  }

  /** The session's Hadoop settings, as Spark's own readers see them (storage keys set with `spark.conf.set` too). */
  private[ml] def hadoopConf(session: SparkSession): Configuration = {
    val conf = new Configuration(session.sparkContext.hadoopConfiguration)
    session.conf.getAll.foreach { case (k, v) => conf.set(k, v) }
    conf
  }
}

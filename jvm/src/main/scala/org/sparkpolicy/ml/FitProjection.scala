package org.sparkpolicy.ml

import org.apache.spark.sql.{DataFrame, Dataset}
import org.apache.spark.storage.StorageLevel
import org.sparkpolicy.train.{InputPersistence, InputSpec, TrainingData}

/**
 * The columns a fit reads, as one projection of the input, persisted where `InputPersistence` says so: the
 * source is then read once, by the validation pass, which fills it; the binning pass reads it again (AIPW
 * adds its passes); everything after reads blocks. Files, cached or local data are read twice instead.
 */
private[ml] object FitProjection {
  def using[T](dataset: Dataset[_], spec: InputSpec)(fit: DataFrame => T): T = {
    val all = dataset.toDF()
    TrainingData.validateFeatures(all.schema, spec.featureCols, spec.categoricalCols)
    val projection = all.select(TrainingData.sourceColumns(spec).filter(all.columns.contains).map(TrainingData.userCol): _*)
    val persisted = InputPersistence.persists(projection)
    val df = if (persisted) projection.persist(StorageLevel.MEMORY_AND_DISK) else projection
    try fit(df) finally if (persisted) df.unpersist(blocking = false)
  }
}

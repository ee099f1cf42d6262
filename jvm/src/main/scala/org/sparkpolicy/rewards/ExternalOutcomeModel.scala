package org.sparkpolicy.rewards

import org.apache.spark.ml.{Estimator, Model}
import org.apache.spark.ml.feature.VectorAssembler
import org.apache.spark.ml.param.ParamMap
import org.apache.spark.sql.DataFrame
import org.apache.spark.sql.functions._
import org.sparkpolicy.train.TrainingData

/**
 * A user-supplied Spark ML regressor as the AIPW outcome model: fitted once per (fold k, arm a) on the
 * rows of arm a outside fold k, and used to predict μ̂_a for fold k's rows. The folds are the same
 * content-hash folds as the native trees, but the regressor's own training may depend on the data's
 * layout (e.g. random forests' bootstrap per partition, GBT sampling), in which case Γ is outside the
 * semantic contract.
 */
private[sparkpolicy] object ExternalOutcomeModel {
  private val VectorName = "__sp_features_vec"
  private val PredictionName = "__sp_prediction"

  /** `base` with `AipwRewards.muName(a)` appended for every arm. */
  def predict(base: DataFrame, estimator: Estimator[_], nFeatures: Int, arms: Int, folds: Int): DataFrame = {
    val assembled = new VectorAssembler()
      .setInputCols(Array.tabulate(nFeatures)(TrainingData.featureName))
      .setOutputCol(VectorName)
      .setHandleInvalid("keep")
      .transform(base)
    val fold = col(TrainingData.FoldName)
    val arm = col(TrainingData.ArmName)
    val est = estimator.copy(ParamMap.empty)
    Seq("featuresCol" -> VectorName, "labelCol" -> TrainingData.OutcomeName, "predictionCol" -> PredictionName).foreach { case (p, v) =>
      if (!est.hasParam(p)) throw new IllegalArgumentException(s"outcome model ${est.getClass.getName} has no '$p' Param; pass a Spark ML regressor")
      est.set(est.getParam(p), v)
    }
    val parts = (0 until folds).map { k =>
      (0 until arms).foldLeft(assembled.where(fold === k)) { (df, a) =>
        val train = assembled.where(fold =!= k && arm === a)
        val model = est.fit(train).asInstanceOf[Model[_]]
        model.transform(df).withColumnRenamed(PredictionName, AipwRewards.muName(a))
      }
    }
    parts.reduce(_ unionByName _).drop(VectorName)
  }
}

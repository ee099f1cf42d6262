package org.sparkpolicy.ml

import org.apache.spark.sql.DataFrame
import org.scalatest.funsuite.AnyFunSuite
import org.sparkpolicy.SparkTestSession

/** Every bad input gets an IllegalArgumentException on the driver that names the column or value at fault. */
class BadInputSuite extends AnyFunSuite with SparkTestSession {
  private def df: DataFrame = spark.createDataFrame(Seq(
    (0.1, 1, "a", "A", 1.0, 0.0, 2.0, 0.5),
    (0.7, 2, "b", "B", 0.0, 1.0, 1.0, 0.5),
    (0.4, 3, "c", "A", 1.0, 1.0, 3.0, 0.5),
    (0.9, 4, "d", "B", 2.0, 0.5, 0.0, 0.5))).toDF("x", "n", "s", "arm", "ga", "gb", "y", "p")

  private def given = new PolicyTreeLearner().setFeatureCols(Array("x", "n")).setRewardCols(Array("ga", "gb"))

  private def failure(f: => Any): String = intercept[IllegalArgumentException](f).getMessage

  test("missing feature column is named, with the available columns") {
    val m = failure(given.setFeatureCols(Array("x", "nope")).fit(df))
    assert(m.contains("'nope' does not exist") && m.contains("available columns: x, n"), m)
  }

  test("a feature of an unsupported type is rejected with its type (strings are categorical, see CategoricalSuite)") {
    val m = failure(given.setFeatureCols(Array("x", "a")).fit(df.withColumn("a", org.apache.spark.sql.functions.array(org.apache.spark.sql.functions.col("x")))))
    assert(m.contains("feature column 'a' has type array<double>; features must be numeric, boolean or string"), m)
  }

  test("NaN and null rewards are counted and named") {
    val nan = df.selectExpr("x", "n", "arm", "CASE WHEN n = 2 THEN double('NaN') ELSE ga END AS ga", "gb")
    assert(failure(given.fit(nan)).contains("reward column 'ga' has 1 null, NaN or infinite values out of 4 rows"))
    val nul = df.selectExpr("x", "n", "arm", "ga", "CASE WHEN n > 2 THEN NULL ELSE gb END AS gb")
    assert(failure(given.fit(nul)).contains("reward column 'gb' has 2 null"))
    val inf = df.selectExpr("x", "n", "arm", "ga", "CASE WHEN n = 1 THEN double('-Infinity') ELSE gb END AS gb")
    assert(failure(given.fit(inf)).contains("reward column 'gb' has 1 null, NaN or infinite"))
  }

  test("an outcome with nulls is named for IPW") {
    val nul = df.selectExpr("x", "n", "arm", "CASE WHEN n = 1 THEN NULL ELSE y END AS y")
    val m = failure(new PolicyTreeLearner().setFeatureCols(Array("x")).setTreatmentCol("arm").setOutcomeCol("y").fit(nul))
    assert(m.contains("outcome column 'y' has 1 null, NaN or infinite values out of 4 rows"), m)
  }

  test("propensities outside (0, 1] are counted") {
    val bad = df.selectExpr("x", "arm", "y", "CASE WHEN n = 3 THEN 0.0 ELSE p END AS p")
    val m = failure(new PolicyTreeLearner().setFeatureCols(Array("x")).setTreatmentCol("arm").setOutcomeCol("y")
      .setPropensityCol("p").fit(bad))
    assert(m.contains("propensity column 'p' has 1 values"), m)
  }

  test("an arm label outside the given vocabulary is named with its row count") {
    val m = failure(new PolicyTreeLearner().setFeatureCols(Array("x")).setTreatmentCol("s").setOutcomeCol("y")
      .setTreatmentVocabulary(Array("a", "b", "c")).fit(df))
    assert(m.contains("label 'd' (1 rows) that is not in treatmentVocabulary [a, b, c]"), m)
  }

  test("fewer than 2 arms") {
    val one = df.selectExpr("x", "'A' AS arm", "y")
    val m = failure(new PolicyTreeLearner().setFeatureCols(Array("x")).setTreatmentCol("arm").setOutcomeCol("y").fit(one))
    assert(m.contains("at least 2 arms") && m.contains("[A]"), m)
  }

  test("rewardCols length must match the vocabulary") {
    val m = failure(given.setTreatmentCol("s").fit(df))
    assert(m.contains("rewardCols has 2 columns [ga, gb] but the treatment vocabulary has 4 arms [a, b, c, d]"), m)
    val v = failure(given.setTreatmentVocabulary(Array("x", "y", "z")).fit(df))
    assert(v.contains("rewardCols has 2 columns") && v.contains("3 arms [x, y, z]"), v)
  }

  test("given rewards with a treatment column need the vocabulary that maps columns to arms") {
    val m = failure(given.setTreatmentCol("arm").fit(df))
    assert(m.contains("set treatmentVocabulary") && m.contains("[A, B]"), m)
    assert(given.setTreatmentCol("arm").setTreatmentVocabulary(Array("A", "B")).setMaxDepth(1).fit(df).numNodes >= 1)
  }

  test("column names with dots and spaces, and an outcome named like an internal column, work") {
    val odd = df.selectExpr("x AS `user.age`", "n AS `visits last week`", "arm", "y AS g0")
    val model = new PolicyTreeLearner().setFeatureCols(Array("user.age", "visits last week")).setTreatmentCol("arm")
      .setOutcomeCol("g0").setMaxDepth(1).fit(odd)
    assert(model.transform(odd).count() == 4)
    assert(model.transformWithSql(odd).count() == 4)
  }

  test("null treatment labels are counted") {
    val nul = df.selectExpr("x", "CASE WHEN n = 4 THEN NULL ELSE arm END AS arm", "y")
    val m = failure(new PolicyTreeLearner().setFeatureCols(Array("x")).setTreatmentCol("arm").setOutcomeCol("y").fit(nul))
    assert(m.contains("treatment column 'arm' has 1 null values"), m)
  }

  test("no rows") {
    assert(failure(given.fit(df.limit(0))).contains("no rows"))
  }

  test("transform checks the feature columns too") {
    val model = given.setMaxDepth(1).fit(df)
    val m = failure(model.transform(df.drop("n")))
    assert(m.contains("'n' does not exist"), m)
    val s = failure(model.transform(df.drop("n").withColumnRenamed("s", "n")))
    assert(s.contains("feature column 'n' has type string"), s)
  }

  test("out-of-range Params are refused by Spark's validators") {
    intercept[IllegalArgumentException](new PolicyTreeLearner().setMaxDepth(13))
    intercept[IllegalArgumentException](new PolicyTreeLearner().setMaxBins(1))
    intercept[IllegalArgumentException](new PolicyTreeLearner().setMinNodeSize(0))
  }
}

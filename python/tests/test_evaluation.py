"""PolicyValueEvaluator and the hash-based splits through the Python API."""
import pytest
from pyspark.errors import IllegalArgumentException
from pyspark.ml.tuning import CrossValidator, ParamGridBuilder
from pyspark.sql import functions as F

from conftest import FEATURES, FOLD_COUNTS, TRAIN_IDS
from sparkpolicy.ml import PolicyTreeLearner, PolicyValueEvaluator, train_test_split, with_fold_column
from sparkpolicy.ml.splits import _remote_train_test_split, _remote_with_fold_column


def with_ipw_rewards(df, arms):
    """Γ(a) = 1{W=a}·Y/e as one array column, vocabulary order."""
    return df.withColumn("gamma", F.array(*[F.when(F.col("treatment") == a, F.col("outcome") / F.col("propensity"))
                                            .otherwise(F.lit(0.0)) for a in arms]))


def test_summary_matches_a_direct_computation(model, data):
    arms = model.getTreatmentVocabulary()
    scored = with_ipw_rewards(model.transform(data), arms)
    evaluator = PolicyValueEvaluator(rewardsCol="gamma").setModel(model)
    rows = {r["policy"]: r for r in evaluator.summary(scored).collect()}
    gammas = [(r["policy_action_index"], r["gamma"]) for r in scored.select("policy_action_index", "gamma").collect()]
    direct = sum(g[a] for a, g in gammas) / len(gammas)
    assert rows["policy"]["value"] == pytest.approx(direct, abs=1e-9)
    assert rows["policy"]["n"] == len(gammas)
    assert rows["policy"]["ci_low"] < rows["policy"]["value"] < rows["policy"]["ci_high"]
    assert evaluator.evaluate(scored) == rows["policy"]["value"]
    assert f"policy - best arm ({model.bestArmOnTraining})" in rows


def test_gain_over_best_arm_needs_the_training_choice(model, data):
    scored = with_ipw_rewards(model.transform(data), model.getTreatmentVocabulary())
    with pytest.raises(IllegalArgumentException, match="winner's curse"):
        PolicyValueEvaluator(rewardsCol="gamma", metricName="gainOverBestArm").evaluate(scored)


def test_hash_split_and_cross_validation_with_hash_folds(data):
    train, test = train_test_split(data, 0.7, ["id"])
    assert train.count() + test.count() == data.count()
    ids = [r.id for r in train.select("id").collect()]
    assert (len(ids), sum(ids)) == TRAIN_IDS  # the numbers test_connect.py expects of its Connect twin
    folds = with_fold_column(data, 3, key_cols=["id"]).groupBy("fold").count().orderBy("fold").collect()
    assert [(r.fold, r["count"]) for r in folds] == FOLD_COUNTS
    again, _ = train_test_split(data.repartition(5), 0.7, ["id"])
    assert sorted(r.id for r in again.select("id").collect()) == sorted(r.id for r in train.select("id").collect())
    arms = ["a", "b", "c"]
    folded = with_ipw_rewards(with_fold_column(data, 3, key_cols=["id"]), arms)
    learner = PolicyTreeLearner(featureCols=FEATURES, treatmentCol="treatment", outcomeCol="outcome", propensityCol="propensity")
    grid = ParamGridBuilder().addGrid(learner.maxDepth, [1, 2]).build()
    cv = CrossValidator(estimator=learner, estimatorParamMaps=grid, evaluator=PolicyValueEvaluator(rewardsCol="gamma"),
                        foldCol="fold").fit(folded)
    assert cv.bestModel.depth == 2
    assert len(cv.avgMetrics) == 2 and cv.avgMetrics[1] > cv.avgMetrics[0]


def test_doubly_robust_scores_feed_the_evaluator(spark, data, model):
    from sparkpolicy.ml import DoublyRobustScores

    scores = DoublyRobustScores(featureCols=FEATURES, treatmentCol="treatment", outcomeCol="outcome",
                                treatmentVocabulary=model.getTreatmentVocabulary(), rowIdCol="id", maxBins=16)
    scored = scores.transform(model.transform(data))
    again = scores.transform(model.transform(data.repartition(3)))
    rows = {r.id: r.rewards for r in scored.select("id", "rewards").collect()}
    assert len(rows) == data.count() and all(len(g) == 3 for g in rows.values())
    assert {r.id: r.rewards for r in again.select("id", "rewards").collect()} == rows  # same bits in any layout
    value = PolicyValueEvaluator(rewardsCol="rewards").setModel(model).evaluate(scored)
    assert value == value  # a number, not NaN
    learner = PolicyTreeLearner(featureCols=FEATURES, treatmentCol="treatment", outcomeCol="outcome", maxDepth=1)
    fitted = learner.setHandleInvalid("skip").setCrossFitFolds(3).fit(data)
    assert fitted._java_obj.getRewardType() == "aipw" and fitted.getCrossFitFolds() == 3  # resolved on the JVM


@pytest.mark.parametrize("key_cols", [["id"], ["name", "score"], ["flag", "name"], []])
def test_connect_twin_of_the_hash_picks_the_jvms_rows_with_nulls(spark, key_cols):
    """_hash_unit (what Connect clients run) against the Scala HashSplit, on one classic session: nulls in
    every key column, and a null that must differ from an empty string or a zero."""
    df = (spark.range(4000)
          .withColumn("name", F.when(F.col("id") % 7 == 0, F.lit(None).cast("string"))
                      .when(F.col("id") % 11 == 0, F.lit("")).otherwise(F.concat(F.lit("n"), (F.col("id") % 97).cast("string"))))
          .withColumn("score", F.when(F.col("id") % 5 == 0, F.lit(None).cast("double"))
                      .when(F.col("id") % 13 == 0, F.lit(0.0)).otherwise(F.col("id") / 3.0))
          .withColumn("flag", F.when(F.col("id") % 3 == 0, F.lit(None).cast("boolean")).otherwise(F.col("id") % 2 == 0))
          .repartition(3))

    def ids(frame):
        return sorted(r.id for r in frame.select("id").collect())

    jvm_train, jvm_test = train_test_split(df, 0.6, key_cols, seed=5)
    py_train, py_test = _remote_train_test_split(df, 0.6, key_cols, 5)
    assert ids(py_train) == ids(jvm_train) and ids(py_test) == ids(jvm_test)
    assert 0 < len(ids(jvm_train)) < 4000

    def folds(frame):
        return sorted((r.id, r.f) for r in frame.select("id", "f").collect())

    jvm_folds = folds(with_fold_column(df, 4, "f", key_cols, seed=9))
    assert folds(_remote_with_fold_column(df, 4, "f", key_cols, 9)) == jvm_folds
    assert {f for _, f in jvm_folds} == {0, 1, 2, 3}

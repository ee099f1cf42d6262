"""The policy forest through the Python API: fit, parity with the Scala API, persistence and bad Params.
Small on purpose (conftest's 3,000 planted rows, 4 trees of depth 2) to keep `make test` fast."""
import pytest
from pyspark.errors import IllegalArgumentException
from pyspark.ml import PipelineModel
from pyspark.sql import DataFrame

from conftest import FEATURES, FOREST_PARAMS, planted_arm
from sparkpolicy.ml import PolicyForestLearner, PolicyForestModel, PolicyTreeModel, saved_model_info

OUTPUT = ["policy_action", "policy_action_index", "policy_scores", "policy_leaves"]


def scored_rows(df):
    """Every output column of a scored frame, ordered by id (floats compare exactly)."""
    return [tuple(r) for r in df.select("id", *OUTPUT).orderBy("id").collect()]


def test_forest_recovers_the_planted_policy(forest, data):
    assert type(forest) is PolicyForestModel
    assert forest.numTreesFitted == forest.getNumTreesFitted() == 4
    assert forest.getNumTrees() == 4 and forest.getMaxDepth() == 2 and forest.getSeed() == 7
    assert forest.getThresholdSearch() == "exact" and forest.getHonest() and forest.getSubsamplingRate() == 0.5
    assert forest.getTreatmentVocabulary() == ["a", "b", "c"] and forest.getFeatureCols() == FEATURES
    rows = forest.transform(data).select("x0", "x1", *OUTPUT).collect()
    assert len(rows) == 3000
    agree = sum(r.policy_action == planted_arm(r.x0, r.x1) for r in rows)
    assert agree >= 0.95 * len(rows), f"{agree} of {len(rows)} rows get the planted arm\n{forest.toDebugString}"
    for r in rows:
        assert forest.getTreatmentVocabulary()[r.policy_action_index] == r.policy_action
        assert len(r.policy_scores) == 3 and max(r.policy_scores) == r.policy_scores[r.policy_action_index]
        assert len(r.policy_leaves) == 4 and all(1 <= leaf < 8 for leaf in r.policy_leaves)
    # x2 is irrelevant: the splits and so the importances are on x0 and x1.
    importances = forest.featureImportances.toArray()
    assert len(importances) == 3 and abs(importances.sum() - 1.0) < 1e-12 and importances[2] < 0.05
    text = forest.toDebugString
    assert text.startswith(f"PolicyForestModel: uid={forest.uid}, numTrees=4, arms=3")
    assert all(f"Tree {t}:" in text for t in range(4)) and "x0" in text
    assert forest.featureSubsetSize == 3  # featureSubsetStrategy "all"
    assert [len(b) for b in forest.splitBoundaries] == [9, 9, 3]


def test_members_are_python_tree_models_whose_mean_is_the_forest(forest, data):
    trees = forest.trees
    assert len(trees) == 4 and all(type(t) is PolicyTreeModel for t in trees)
    assert all(t.getFeatureCols() == FEATURES and t.getMaxDepth() == 2 and 1 <= t.depth <= 2 for t in trees)
    assert len({t.signatures["model"] for t in trees}) > 1, "every tree drew the same rows"
    assert all(t.signatures["input"] == forest.signatures["input"] and t.signatures["output"] == "" for t in trees)
    few = data.where("id < 200")
    members = [{r.id: (list(r.policy_scores), r.policy_leaf) for r in t.transform(few).collect()} for t in trees]
    for r in forest.transform(few).collect():
        assert r.policy_leaves == [m[r.id][1] for m in members]
        assert r.policy_scores == [sum(m[r.id][0][a] for m in members) / 4 for a in range(3)]


def scala_forest(spark, data):
    """The same forest fitted through the Scala API alone (py4j calls on the JVM objects, no Python wrapper)."""
    jvm, gateway = spark.sparkContext._jvm, spark.sparkContext._gateway
    features = gateway.new_array(jvm.java.lang.String, len(FEATURES))
    for i, name in enumerate(FEATURES):
        features[i] = name
    learner = (jvm.org.sparkpolicy.ml.PolicyForestLearner().setFeatureCols(features).setTreatmentCol("treatment")
               .setOutcomeCol("outcome").setPropensityCol("propensity").setNumTrees(FOREST_PARAMS["numTrees"])
               .setMaxDepth(FOREST_PARAMS["maxDepth"]).setSeed(FOREST_PARAMS["seed"]))
    return learner.fit(data._jdf)


def test_python_transform_is_the_scala_transform(spark, forest, data):
    jmodel = scala_forest(spark, data)
    assert dict(jmodel.signatures()) == forest.signatures
    scala = DataFrame(jmodel.transform(data._jdf), spark)
    python = forest.transform(data)
    assert python.columns == scala.columns == data.columns + OUTPUT
    assert python.schema == scala.schema
    assert scored_rows(python) == scored_rows(scala)
    assert forest.outputSignature(data.orderBy("x2", "id")) == forest.signatures["output"]
    assert forest.inputSignature(data) == forest.signatures["input"]
    # The SQL backend from Python: the same signature, and the best arm over every training row.
    assert forest.outputSignatureOfScored(forest.transformWithSql(data)) == forest.signatures["output"]
    assert forest.bestArmOnTraining == jmodel.bestArmOnTraining() and forest.bestArmOnTraining in forest.getTreatmentVocabulary()


def test_save_load_round_trip(forest, data, tmp_path):
    path = str(tmp_path / "forest")
    forest.write().overwrite().save(path)
    loaded = PolicyForestModel.load(path)
    assert type(loaded) is PolicyForestModel and loaded.uid == forest.uid
    assert loaded.signatures == forest.signatures and loaded.toDebugString == forest.toDebugString
    assert loaded.numTreesFitted == 4 and loaded.getNumTrees() == 4 and loaded.getSeed() == 7
    assert loaded.getFeatureCols() == FEATURES and loaded.getMaxDepth() == 2 and loaded.getThresholdSearch() == "exact"
    assert scored_rows(loaded.transform(data)) == scored_rows(forest.transform(data))
    info = saved_model_info(data.sparkSession, path)
    assert info["uid"] == forest.uid and info["numTrees"] == 4 and "bestArmOnTraining" not in info
    assert info["signatures"] == forest.signatures and info["vocabulary"] == ["a", "b", "c"]
    assert info["featureCols"] == FEATURES and info["numRows"] == 3000 and info["boundaries"] == forest.splitBoundaries
    # Inside a PipelineModel, the loaded stage is the Python class again (the org.sparkpolicy.ml alias module).
    PipelineModel(stages=[forest]).write().overwrite().save(str(tmp_path / "pipeline"))
    stage = PipelineModel.load(str(tmp_path / "pipeline")).stages[0]
    assert type(stage) is PolicyForestModel and stage.signatures == forest.signatures


def test_learner_save_load_keeps_the_forest_params(tmp_path):
    learner = PolicyForestLearner(featureCols=["x0", "x1"], treatmentCol="treatment", outcomeCol="outcome", numTrees=7,
                                  subsamplingRate=0.8, featureSubsetStrategy="sqrt", honest=False, seed=3, maxDepth=3)
    path = str(tmp_path / "learner")
    learner.save(path)
    loaded = PolicyForestLearner.load(path)
    assert type(loaded) is PolicyForestLearner and loaded.uid == learner.uid
    assert (loaded.getNumTrees(), loaded.getSubsamplingRate(), loaded.getFeatureSubsetStrategy(), loaded.getHonest(),
            loaded.getSeed(), loaded.getMaxDepth()) == (7, 0.8, "sqrt", False, 3, 3)
    assert loaded.getFeatureCols() == ["x0", "x1"] and loaded.getThresholdSearch() == "exact"
    assert not loaded.isSet(loaded.rewardCols) and loaded.getMinNodeSize() == 1


@pytest.mark.parametrize("param, value, message", [
    ("numTrees", 0, "numTrees"),
    ("numTrees", 10001, "numTrees"),
    ("featureSubsetStrategy", "bogus", "featureSubsetStrategy"),
    ("subsamplingRate", 0.0, "subsamplingRate"),
    ("thresholdSearch", "quantile", "thresholdSearch.*quantile"),
    ("searchDepth", 2, "searchDepth 2"),
])
def test_bad_params_are_errors_naming_the_param(data, param, value, message):
    # Range checks are the Scala ParamValidators' (raised when the params reach the JVM), the rest the fit's.
    learner = PolicyForestLearner(**dict(FOREST_PARAMS, **{param: value}))
    with pytest.raises(IllegalArgumentException, match=message):
        learner.fit(data)


def test_python_type_errors_and_unsupported_outcome_model():
    with pytest.raises(TypeError):
        PolicyForestLearner(numTrees="many")
    with pytest.raises(TypeError):
        PolicyForestLearner().setHonest("yes")
    from pyspark.ml.regression import LinearRegression
    from sparkpolicy.ml import PolicyForestModel
    with pytest.raises(NotImplementedError, match="PolicyForestModel has no setOutcomeModel: .*set it on PolicyForestLearner"):
        PolicyForestModel.setOutcomeModel(None, LinearRegression())
    from sparkpolicy.ml import PolicyTreeModel
    with pytest.raises(NotImplementedError, match="PolicyTreeModel has no setOutcomeModel: .*set it on PolicyTreeLearner"):
        PolicyTreeModel.setOutcomeModel(None, LinearRegression())

"""Fit, transform, persistence, Pipeline use and errors through the Python API."""
import glob
import os

import pytest
from pyspark.errors import IllegalArgumentException
from pyspark.ml import Pipeline, PipelineModel
from pyspark.ml.feature import SQLTransformer

import sparkpolicy
from conftest import FEATURES, planted_arm
from sparkpolicy.ml import PolicyTreeLearner, PolicyTreeModel, saved_model_info

OUTPUT = ["policy_action", "policy_action_index", "policy_scores", "policy_leaf"]


def scored_rows(df):
    """Every output column of a scored frame, ordered by id (floats compare exactly)."""
    return [tuple(r) for r in df.select("id", *OUTPUT).orderBy("id").collect()]


def test_session_is_local_loopback_with_the_jar(spark):
    conf = spark.sparkContext.getConf()
    assert spark.sparkContext.master == "local[2]"
    assert conf.get("spark.driver.host") == conf.get("spark.driver.bindAddress") == "127.0.0.1"
    assert conf.get("spark.ui.enabled") == "false"
    assert sparkpolicy.jar_path() in conf.get("spark.jars")


def test_fit_recovers_the_planted_policy(model, data):
    assert model.getTreatmentVocabulary() == ["a", "b", "c"]
    # The left child gains nothing from a split (a is best everywhere there), so it stays a leaf.
    assert model.depth == 2 and model.numNodes == 5
    assert model.getFeatureCols() == FEATURES and model.getMaxDepth() == 2
    rows = model.transform(data).select("x0", "x1", "policy_action", "policy_action_index", "policy_scores").collect()
    assert len(rows) == 3000
    for r in rows:
        assert r.policy_action == planted_arm(r.x0, r.x1)
        assert model.getTreatmentVocabulary()[r.policy_action_index] == r.policy_action
        assert len(r.policy_scores) == 3 and max(r.policy_scores) == r.policy_scores[r.policy_action_index]
    # The root splits on x0 between 0.4 and 0.5; the tree names the features.
    assert "x0" in model.toDebugString and "x1" in model.toDebugString
    assert model.bestArmOnTraining == "a"  # planted on half the rows, b on 15%, c on 35%
    assert [len(b) for b in model.splitBoundaries] == [9, 9, 3]


def test_signatures_and_sql_backend(model, data):
    sigs = model.signatures
    assert isinstance(sigs, dict)
    assert list(sigs) == ["manifest", "boundaries", "model", "decisions", "input", "output"]
    assert all(len(v) == 64 and int(v, 16) >= 0 for v in sigs.values())
    # The training data's signatures match those recomputed from Python, in another row order.
    shuffled = data.orderBy("x2", "id")
    assert model.inputSignature(shuffled) == sigs["input"]
    assert model.outputSignature(shuffled) == sigs["output"]
    assert model.inputSignature(data.where("id < 100")) != sigs["input"]
    # The pure-SQL backend gives the same columns and bit-identical values.
    sql = model.transformWithSql(data)
    assert sql.columns == model.transform(data).columns
    assert scored_rows(sql) == scored_rows(model.transform(data))
    assert model.outputSignatureOfScored(sql) == sigs["output"]
    assert "CASE" in model.toSqlExpression().upper()


def test_save_load_is_bit_identical(model, data, tmp_path):
    path = str(tmp_path / "model")
    model.write().overwrite().save(path)
    loaded = PolicyTreeModel.load(path)
    assert isinstance(loaded, PolicyTreeModel) and loaded.uid == model.uid
    assert loaded.signatures == model.signatures
    assert loaded.toDebugString == model.toDebugString
    assert loaded.getFeatureCols() == FEATURES and loaded.getMaxDepth() == 2
    assert scored_rows(loaded.transform(data)) == scored_rows(model.transform(data))
    assert loaded.outputSignature(data) == model.signatures["output"]
    # The plain-data view Connect clients use (test_connect.py) agrees with the model's own methods.
    info = saved_model_info(data.sparkSession, path)
    assert info["signatures"] == model.signatures and info["vocabulary"] == model.getTreatmentVocabulary()
    assert info["bestArmOnTraining"] == model.bestArmOnTraining and info["boundaries"] == model.splitBoundaries
    assert info["uid"] == model.uid and info["featureCols"] == FEATURES and info["numRows"] == 3000


def test_a_corrupt_save_fails_naming_the_path_and_the_part(model, data, tmp_path):
    """Issue #13: the JVM's message (the path and the part at fault) reaches Python; saved_model_info says as much."""
    def refused(path, prefix, words):
        with pytest.raises(IllegalArgumentException) as e:
            PolicyTreeModel.load(path)
        assert str(e.value).startswith(prefix) and words in str(e.value) and "Job aborted" not in str(e.value), str(e.value)

    def info_refused(path, words):
        with pytest.raises(ValueError) as e:
            saved_model_info(data.sparkSession, path)
        assert str(e.value).startswith(f"{path}/metadata") and words in str(e.value), str(e.value)

    def overwrite(file, content):
        with open(file, "wb") as f:
            f.write(content)
        crc = os.path.join(os.path.dirname(file), f".{os.path.basename(file)}.crc")  # Hadoop's checksum of the old bytes
        if os.path.exists(crc):
            os.remove(crc)

    missing = str(tmp_path / "nowhere")
    refused(missing, missing, "no saved model here")
    info_refused(missing, "cannot be read")
    path = str(tmp_path / "model")
    model.write().save(path)
    overwrite(glob.glob(f"{path}/data/part-*")[0], b"not a parquet file")
    refused(path, f"{path}/data", "not a Parquet node table")
    meta_file = f"{path}/metadata/part-00000"
    with open(meta_file, "rb") as f:
        line = f.read().rstrip(b"\n")
    for cut in (len(line) // 3, len(line) // 2, len(line) - 1, line.index(b":null") + 3):  # the last one inside "null"
        overwrite(meta_file, line[:cut])
        refused(path, f"{path}/metadata", "truncated JSON")
        info_refused(path, "truncated JSON")
    other = str(tmp_path / "learner")
    PolicyTreeLearner().setFeatureCols(["x0"]).save(other)
    refused(other, f"{other}/metadata says class {sparkpolicy.ml._JAVA_PACKAGE}.PolicyTreeLearner", "expected")
    info_refused(other, "says class")


def test_learner_save_load_keeps_params(tmp_path):
    learner = (PolicyTreeLearner().setFeatureCols(["x0", "x1"]).setTreatmentCol("treatment")
               .setOutcomeCol("outcome").setMaxDepth(4).setMaxBins(16).setBoundaries([[0.25, 0.5], [0.5]]))
    path = str(tmp_path / "learner")
    learner.save(path)
    loaded = PolicyTreeLearner.load(path)
    assert loaded.uid == learner.uid
    assert loaded.getFeatureCols() == ["x0", "x1"] and loaded.getMaxDepth() == 4 and loaded.getMaxBins() == 16
    assert loaded.getBoundaries() == [[0.25, 0.5], [0.5]]
    assert loaded.getMinNodeSize() == 1 and not loaded.isSet(loaded.rewardCols)


def test_locked_boundaries_reach_the_jvm(data):
    locked = [[0.45], [0.25, 0.55], [1.5]]
    model = PolicyTreeLearner(featureCols=FEATURES, treatmentCol="treatment", outcomeCol="outcome",
                              propensityCol="propensity", boundaries=locked, maxDepth=2).fit(data)
    assert model.splitBoundaries == locked
    assert all(r.policy_action == planted_arm(r.x0, r.x1) for r in model.transform(data).collect())


def test_pipeline_fit_save_load(data, tmp_path):
    derive = SQLTransformer(statement="SELECT *, x0 + x1 AS x_sum FROM __THIS__")
    learner = PolicyTreeLearner(featureCols=["x0", "x1", "x_sum"], treatmentCol="treatment",
                                outcomeCol="outcome", propensityCol="propensity", maxDepth=2)
    pipeline = Pipeline(stages=[derive, learner])
    fitted = pipeline.fit(data)
    assert isinstance(fitted.stages[1], PolicyTreeModel)
    scored = scored_rows(fitted.transform(data))
    assert len(scored) == 3000

    pipeline.write().overwrite().save(str(tmp_path / "pipeline"))
    reloaded_pipeline = Pipeline.load(str(tmp_path / "pipeline"))
    assert isinstance(reloaded_pipeline.getStages()[1], PolicyTreeLearner)
    assert reloaded_pipeline.getStages()[1].getFeatureCols() == ["x0", "x1", "x_sum"]

    fitted.write().overwrite().save(str(tmp_path / "pipeline_model"))
    assert os.path.isdir(tmp_path / "pipeline_model" / "stages")
    loaded = PipelineModel.load(str(tmp_path / "pipeline_model"))
    assert isinstance(loaded.stages[1], PolicyTreeModel)
    assert loaded.stages[1].signatures == fitted.stages[1].signatures
    assert scored_rows(loaded.transform(data)) == scored


def test_missing_feature_column_is_a_python_illegal_argument(data):
    learner = PolicyTreeLearner(featureCols=["x0", "nope"], treatmentCol="treatment", outcomeCol="outcome")
    with pytest.raises(IllegalArgumentException, match="featureCols: column 'nope' does not exist"):
        learner.fit(data)


def test_transform_checks_the_contract(model, data):
    with pytest.raises(IllegalArgumentException, match="column 'x1' does not exist"):
        model.transform(data.drop("x1"))
    with pytest.raises(IllegalArgumentException, match="feature column 'x2' has type double"):
        model.transform(data.withColumn("x2", data.x2.cast("double")))
    with pytest.raises(IllegalArgumentException, match="treatment column 'treatment' has label 'c'"):
        PolicyTreeLearner(featureCols=FEATURES, treatmentCol="treatment", outcomeCol="outcome",
                          treatmentVocabulary=["a", "b"]).fit(data)


def test_invalid_param_values(data):
    with pytest.raises(TypeError):
        PolicyTreeLearner(maxDepth="deep")
    with pytest.raises(TypeError):
        PolicyTreeLearner().setFeatureCols("x0")
    # Range checks are the Scala ParamValidators', raised when the params reach the JVM.
    with pytest.raises(IllegalArgumentException, match="maxDepth"):
        PolicyTreeLearner(featureCols=FEATURES, treatmentCol="treatment", outcomeCol="outcome", maxDepth=20).fit(data)

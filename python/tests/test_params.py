"""The Python Params are the Scala ones: same names, docs and defaults, read from the JVM through py4j."""
import pytest

from sparkpolicy.ml import DoublyRobustScores, PolicyTreeLearner, PolicyTreeModel


def java_params(java_obj):
    return {p.name(): p for p in java_obj.params()}


@pytest.fixture(scope="module")
def learner(spark):
    return PolicyTreeLearner()


@pytest.fixture(scope="module")
def scores(spark):
    return DoublyRobustScores()


@pytest.mark.parametrize("which", ["learner", "model", "scores"])
def test_params_match_scala(which, learner, model, scores):
    stage = {"learner": learner, "model": model, "scores": scores}[which]
    java = stage._java_obj
    jparams = java_params(java)
    assert sorted(p.name for p in stage.params) == sorted(jparams)
    for p in stage.params:
        jp = jparams[p.name]
        assert p.doc == jp.doc(), f"doc of {p.name} drifted from Scala"
        assert stage.hasDefault(p) == java.hasDefault(jp), p.name
        if java.hasDefault(jp):
            assert stage._defaultParamMap[p] == java.getDefault(jp).get(), p.name


@pytest.mark.parametrize("which", ["learner", "scores"])
def test_getters_and_setters_mirror_scala(which, learner, scores):
    stage = learner if which == "learner" else scores
    java_methods = {m.getName() for m in stage._java_obj.getClass().getMethods()}
    for p in stage.params:
        name = p.name[0].upper() + p.name[1:]
        assert hasattr(stage, "set" + name) and ("set" + name) in java_methods, p.name
        assert hasattr(stage, "get" + name), p.name
    assert "setOutcomeModel" in java_methods and hasattr(stage, "setOutcomeModel")


def test_model_api_names_exist_in_scala(model):
    java_methods = {m.getName() for m in model._java_obj.getClass().getMethods()}
    for name in ["depth", "numNodes", "getTreatmentVocabulary", "toDebugString", "signatures", "inputSignature",
                 "outputSignature", "outputSignatureOfScored", "toSqlExpression", "transformWithSql",
                 "bestArmOnTraining", "splitBoundaries"]:
        assert name in java_methods and hasattr(PolicyTreeModel, name), name


def test_python_values_reach_scala_typed(learner):
    stage = learner.copy().setFeatureCols(["x0", "x1"]).setMaxDepth(5).setBoundaries([[1, 2], [0.5]])
    java = stage._to_java()
    assert list(java.getFeatureCols()) == ["x0", "x1"]
    assert java.getMaxDepth() == 5
    bounds = java.getOrDefault(java.getParam("boundaries"))
    assert [list(b) for b in bounds] == [[1.0, 2.0], [0.5]]


@pytest.mark.parametrize("stage_class", [PolicyTreeLearner, DoublyRobustScores])
def test_outcome_model_is_saved_and_loaded_with_the_stage(spark, stage_class, tmp_path):
    from pyspark.ml.regression import LinearRegression
    stage = stage_class(featureCols=["a"], treatmentCol="w", outcomeCol="y").setOutcomeModel(LinearRegression(regParam=0.25))
    path = str(tmp_path / "stage")
    stage.write().save(path)
    outcome = stage_class.load(path)._java_obj.getOutcomeModel()
    assert outcome.isDefined() and outcome.get().getRegParam() == 0.25
    stage.setOutcomeModel(None).write().overwrite().save(path)  # clearing it reaches the JVM too
    assert not stage_class.load(path)._java_obj.getOutcomeModel().isDefined()


def test_every_stage_loads_back_as_its_python_class(spark, tmp_path):
    """pyspark maps a loaded Java stage to Python by its class name, through the org.sparkpolicy.ml alias module."""
    from sparkpolicy.ml import PolicyValueEvaluator, QiniEvaluator
    for stage in [PolicyTreeLearner(featureCols=["a"]), DoublyRobustScores(featureCols=["a"]), PolicyValueEvaluator(),
                  QiniEvaluator()]:
        path = str(tmp_path / type(stage).__name__)
        stage.write().save(path)
        loaded = type(stage).load(path)
        assert type(loaded) is type(stage) and loaded.uid == stage.uid

"""The Python Params are the Scala ones: same names, docs and defaults, read from the JVM through py4j."""
import inspect
import os
import sys

import pytest

import sparkpolicy.ml._jvm_params
from sparkpolicy.ml import (DoublyRobustScores, PolicyForestLearner, PolicyForestModel, PolicyTreeLearner, PolicyTreeModel,
                            PolicyValueEvaluator, QiniEvaluator)
from sparkpolicy.ml._jvm_params import STAGES as JVM_STAGES
from sparkpolicy.ml.params import _stage_params

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tools"))
import gen_params  # noqa: E402  (python/tools/gen_params.py, not part of the wheel)

STAGES = {"learner": "PolicyTreeLearner", "model": "PolicyTreeModel", "forest_learner": "PolicyForestLearner",
          "forest": "PolicyForestModel", "scores": "DoublyRobustScores", "value": "PolicyValueEvaluator",
          "qini": "QiniEvaluator"}


def java_params(java_obj):
    return {p.name(): p for p in java_obj.params()}


@pytest.fixture(scope="module")
def learner(spark):
    return PolicyTreeLearner()


@pytest.fixture(scope="module")
def scores(spark):
    return DoublyRobustScores()


def test_generated_params_are_the_jvms(spark):
    """_jvm_params.py is what gen_params.py makes of this jar: a Scala Param change must be regenerated."""
    fresh = gen_params.render(gen_params.read_jvm_params(spark))
    assert set(JVM_STAGES) == set(gen_params.STAGES) == set(STAGES.values())
    for committed in [os.path.join(HERE, "..", "sparkpolicy", "ml", "_jvm_params.py"), sparkpolicy.ml._jvm_params.__file__]:
        with open(committed, encoding="utf-8") as f:
            assert f.read() == fresh, f"{committed} differs from the JVM's Params; run `make python-params`"


@pytest.mark.parametrize("which", list(STAGES))
def test_params_match_scala(which, learner, model, forest, scores):
    stage = {"learner": learner, "model": model, "forest_learner": PolicyForestLearner(), "forest": forest,
             "scores": scores, "value": PolicyValueEvaluator(), "qini": QiniEvaluator()}[which]
    java = stage._java_obj
    assert java.getClass().getName() == "org.sparkpolicy.ml." + STAGES[which]
    jparams = java_params(java)
    assert sorted(p.name for p in stage.params) == sorted(jparams)
    for p in stage.params:
        jp = jparams[p.name]
        assert p.doc == jp.doc(), f"doc of {p.name} drifted from Scala"
        assert stage.hasDefault(p) == java.hasDefault(jp), p.name
        if java.hasDefault(jp):
            assert stage._defaultParamMap[p] == java.getDefault(jp).get(), p.name


@pytest.mark.parametrize("which", ["learner", "forest_learner", "scores", "value", "qini"])
def test_getters_and_setters_mirror_scala(which, learner, scores):
    stage = {"learner": learner, "forest_learner": PolicyForestLearner(), "scores": scores, "value": PolicyValueEvaluator(),
             "qini": QiniEvaluator()}[which]
    java_methods = {m.getName() for m in stage._java_obj.getClass().getMethods()}
    for p in stage.params:
        name = p.name[0].upper() + p.name[1:]
        assert hasattr(stage, "set" + name) and ("set" + name) in java_methods, p.name
        assert hasattr(stage, "get" + name), p.name
    if which in ("learner", "forest_learner", "scores"):
        assert "setOutcomeModel" in java_methods and hasattr(stage, "setOutcomeModel")


@pytest.mark.parametrize("stage_class", [PolicyTreeLearner, PolicyForestLearner, DoublyRobustScores, PolicyValueEvaluator,
                                         QiniEvaluator])
def test_keyword_arguments_are_the_params_with_the_jvm_defaults(stage_class):
    """The explicit __init__ / setParams signatures document every Param with the JVM's default (None: no default)."""
    table = _stage_params(stage_class.__name__)
    for method in [stage_class.__init__, getattr(stage_class, "setParams", None)]:
        if method is None:  # only the learners have setParams
            continue
        keywords = {k: v.default for k, v in inspect.signature(method).parameters.items() if v.kind is v.KEYWORD_ONLY}
        assert sorted(keywords) == sorted(table), method.__qualname__
        for name, default in keywords.items():
            assert default == table[name].get("default"), f"{method.__qualname__}: {name}={default!r}"


@pytest.mark.parametrize("stage_class", [PolicyTreeLearner, PolicyTreeModel, PolicyForestLearner, PolicyForestModel,
                                         DoublyRobustScores, PolicyValueEvaluator, QiniEvaluator])
def test_stages_build_their_params_from_the_table_without_a_jvm(stage_class):
    """What a Connect client (no JVM) gets: class-level Params, docs, defaults and setters come from the table,
    and the Python mixins are the Scala traits."""
    table = _stage_params(stage_class.__name__)
    declared = {name: getattr(stage_class, name) for name in table}
    assert all(p.name == name and p.doc == table[name]["doc"] for name, p in declared.items())
    assert stage_class._jvm_defaults == {k: v["default"] for k, v in table.items() if "default" in v}
    assert all(callable(getattr(stage_class, "set" + n[0].upper() + n[1:], None))
               for n in JVM_STAGES[stage_class.__name__]["setters"])
    mixins = {base.__dict__.get("_jvm_trait") for base in stage_class.__mro__} - {None}
    assert sorted(mixins) == JVM_STAGES[stage_class.__name__]["traits"]


def test_model_api_names_exist_in_scala(model):
    java_methods = {m.getName() for m in model._java_obj.getClass().getMethods()}
    for name in ["depth", "numNodes", "getTreatmentVocabulary", "toDebugString", "signatures", "inputSignature",
                 "outputSignature", "outputSignatureOfScored", "toSqlExpression", "transformWithSql",
                 "bestArmOnTraining", "splitBoundaries"]:
        assert name in java_methods and hasattr(PolicyTreeModel, name), name


def test_forest_model_api_names_exist_in_scala(forest):
    java_methods = {m.getName() for m in forest._java_obj.getClass().getMethods()}
    python_names = {"numTreesFitted": "getNumTreesFitted"}  # numTrees is the Param, as in Scala
    for name in ["numTreesFitted", "getNumTreesFitted", "trees", "featureImportances", "featureSubsetSize",
                 "getTreatmentVocabulary", "splitBoundaries", "unseenCategoryCount", "toDebugString", "signatures",
                 "inputSignature", "outputSignature"]:
        assert python_names.get(name, name) in java_methods and hasattr(PolicyForestModel, name), name


def test_python_values_reach_scala_typed(learner):
    stage = learner.copy().setFeatureCols(["x0", "x1"]).setMaxDepth(5).setBoundaries([[1, 2], [0.5]])
    java = stage._to_java()
    assert list(java.getFeatureCols()) == ["x0", "x1"]
    assert java.getMaxDepth() == 5
    bounds = java.getOrDefault(java.getParam("boundaries"))
    assert [list(b) for b in bounds] == [[1.0, 2.0], [0.5]]


@pytest.mark.parametrize("stage_class", [PolicyTreeLearner, PolicyForestLearner, DoublyRobustScores])
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
    for stage in [PolicyTreeLearner(featureCols=["a"]), PolicyForestLearner(featureCols=["a"], numTrees=3),
                  DoublyRobustScores(featureCols=["a"]), PolicyValueEvaluator(), QiniEvaluator()]:
        path = str(tmp_path / type(stage).__name__)
        stage.write().save(path)
        loaded = type(stage).load(path)
        assert type(loaded) is type(stage) and loaded.uid == stage.uid

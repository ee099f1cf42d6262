"""QiniEvaluator through the Python API, against scikit-uplift's numbers in tests/fixtures/qini."""
import csv
import os

import pytest
from pyspark.sql import functions as F

from sparkpolicy.ml import QiniEvaluator

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "..", "tests", "fixtures", "qini")


def expected(case):
    with open(os.path.join(FIXTURES, "expected.csv")) as f:
        rows = [r for r in csv.DictReader(f) if r["case"] == case]
    return {(r["metric"], int(r["index"])): r["value"] for r in rows}


@pytest.fixture(scope="module")
def small(spark):
    return spark.read.option("header", "true").schema("score double, arm string, y int").csv(
        os.path.join(FIXTURES, "small.csv")).cache()


def test_qini_auc_score_curve_and_exclusions_match_scikit_uplift(small):
    want = expected("small")
    ev = QiniEvaluator(upliftCol="score", treatmentCol="arm", outcomeCol="y", treatmentArm="t", controlArm="c")
    score = ev.evaluate(small)
    assert score == pytest.approx(float(want[("qini_auc_score", -1)]), rel=1e-12)
    s = ev.summary(small).head()
    assert s["qini_auc_score"] == score
    assert s["n_excluded"] == small.where(F.col("arm") == "x").count() > 0
    assert (s["n_treatment"], s["n_control"]) == (int(want[("n_treatment", -1)]), int(want[("n_control", -1)]))
    model = ev.curve(small).where(F.col("curve") == "model").orderBy("point").collect()
    assert len(model) == int(want[("curve_points", -1)])
    for r in model:
        assert r["n"] == int(want[("curve_x", r["point"])])
        assert r["qini"] == pytest.approx(float(want[("curve_y", r["point"])]), rel=1e-12, abs=0.0)
    assert ev.evaluate(small.repartition(3)) == score


def test_uplift_from_policy_scores_with_a_vocabulary(small):
    scored = small.withColumn("policy_scores", F.array(F.lit(0.25), F.col("score") + F.lit(0.5), F.lit(0.5)))
    ev = QiniEvaluator(treatmentVocabulary=["x", "t", "c"], treatmentCol="arm", outcomeCol="y",
                       treatmentArm="t", controlArm="c")
    direct = QiniEvaluator(upliftCol="score", treatmentCol="arm", outcomeCol="y", treatmentArm="t", controlArm="c")
    assert ev.evaluate(scored) == direct.evaluate(small)


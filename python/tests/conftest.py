"""One SparkSession for the whole suite: local[2], loopback only, no UI, the bundled jar on the classpath."""
import os
import sys

import pyspark
import pytest

import sparkpolicy
from planted_job import FEATURES, SCHEMA, planted_arm, planted_rows  # noqa: F401

# The Spark that pyspark bundles (pinned to the pom's 4.1.0), never one from the environment.
os.environ["SPARK_HOME"] = os.path.dirname(os.path.abspath(pyspark.__file__))
os.environ["SPARK_LOCAL_IP"] = "127.0.0.1"
os.environ["PYSPARK_PYTHON"] = sys.executable


@pytest.fixture(scope="session")
def spark():
    from pyspark.sql import SparkSession

    session = (SparkSession.builder.master("local[2]").appName("sparkpolicy-pytest")
               .config("spark.jars", sparkpolicy.jar_path())
               .config("spark.driver.host", "127.0.0.1")
               .config("spark.driver.bindAddress", "127.0.0.1")
               .config("spark.ui.enabled", "false")
               .config("spark.sql.shuffle.partitions", "2")
               .config("spark.ui.showConsoleProgress", "false")
               .getOrCreate())
    session.sparkContext.setLogLevel("WARN")
    yield session
    session.stop()


@pytest.fixture(scope="session")
def data(spark):
    return spark.createDataFrame(planted_rows(), SCHEMA).repartition(2).cache()


@pytest.fixture(scope="session")
def model(data):
    from sparkpolicy.ml import PolicyTreeLearner

    learner = PolicyTreeLearner(featureCols=FEATURES, treatmentCol="treatment", outcomeCol="outcome",
                                propensityCol="propensity", maxDepth=2)
    return learner.fit(data)


# A small forest (4 trees, depth 2) on the same rows, for test_forest.py and test_params.py.
FOREST_PARAMS = dict(featureCols=FEATURES, treatmentCol="treatment", outcomeCol="outcome", propensityCol="propensity",
                     numTrees=4, maxDepth=2, seed=7)


@pytest.fixture(scope="session")
def forest(data):
    from sparkpolicy.ml import PolicyForestLearner

    return PolicyForestLearner(**FOREST_PARAMS).fit(data)


# HashSplit on planted_rows() keyed by "id": (train rows, sum of their ids) for trainTestSplit(0.7) and the
# rows per fold of withFoldColumn(3), as the Scala implementation computes them (checked in test_evaluation.py);
# test_connect.py holds the DataFrame-function twin used over Connect to the same numbers.
TRAIN_IDS = (2117, 3141214)
FOLD_COUNTS = [(0, 1068), (1, 958), (2, 974)]

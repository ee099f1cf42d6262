"""Spark Connect: a local Connect server (pyspark 4.1.0's spark-submit, loopback only, our jar on the
driver class path) and a Python client. Fit, transform, evaluate and save/load go through Spark's
Connect ML handler, which finds our stages by ServiceLoader; model methods outside its allow-list are
refused, and the wrappers say so (docs/quickstart.md, "Spark Connect")."""
import os
import signal
import socket
import subprocess
import sys
import time

import pyspark
import pytest
from pyspark.sql import functions as F

import sparkpolicy
from conftest import FEATURES, FOLD_COUNTS, SCHEMA, TRAIN_IDS, planted_arm, planted_rows
from sparkpolicy.ml import (ConnectUnsupportedError, DoublyRobustScores, PolicyForestLearner, PolicyForestModel,
                            PolicyTreeLearner, PolicyTreeModel, PolicyValueEvaluator, QiniEvaluator, saved_model_info,
                            train_test_split, with_fold_column)
from test_qini import FIXTURES, expected

SPARK_HOME = os.path.dirname(os.path.abspath(pyspark.__file__))
SERVER_CLASS = "org.apache.spark.sql.connect.service.SparkConnectServer"
OUTPUT = ["policy_action", "policy_action_index", "policy_scores", "policy_leaf"]


def free_loopback_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def listening_addresses(port):
    """Local addresses in LISTEN state on `port`, from /proc/net/tcp{,6} (hex, little-endian IPv4)."""
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        if not os.path.exists(table):
            continue
        with open(table) as f:
            for line in f.readlines()[1:]:
                local, state = line.split()[1], line.split()[3]
                addr, hex_port = local.split(":")
                if state == "0A" and int(hex_port, 16) == port:
                    found.append(addr)
    return found


def server_command(port):
    return [os.path.join(SPARK_HOME, "bin", "spark-submit"), "--master", "local[2]", "--class", SERVER_CLASS,
            # The system class path, not addArtifacts/--jars: the native library loads in one classloader.
            "--driver-class-path", sparkpolicy.jar_path(),
            "--conf", "spark.connect.grpc.binding.address=127.0.0.1", "--conf", f"spark.connect.grpc.binding.port={port}",
            "--conf", "spark.driver.host=127.0.0.1", "--conf", "spark.driver.bindAddress=127.0.0.1",
            "--conf", "spark.ui.enabled=false", "--conf", "spark.sql.shuffle.partitions=2"]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    port = free_loopback_port()
    log_path = tmp_path_factory.mktemp("connect") / "server.log"
    env = dict(os.environ, SPARK_HOME=SPARK_HOME, SPARK_LOCAL_IP="127.0.0.1", PYSPARK_PYTHON=sys.executable)
    with open(log_path, "w") as log:
        # Own process group, so teardown stops spark-submit's JVM and nothing else.
        proc = subprocess.Popen(server_command(port), env=env, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)
    try:
        deadline = time.monotonic() + 180
        while True:
            if proc.poll() is not None:
                pytest.fail(f"Connect server exited {proc.returncode}:\n{log_path.read_text()[-5000:]}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail(f"Connect server not listening on 127.0.0.1:{port} after 180 s:\n"
                                f"{log_path.read_text()[-5000:]}")
                time.sleep(0.5)
        yield {"port": port, "log": log_path}
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


@pytest.fixture(scope="module")
def remote(server):
    from pyspark.sql import SparkSession

    session = SparkSession.builder.remote(f"sc://127.0.0.1:{server['port']}").getOrCreate()
    try:
        yield session
    finally:
        session.stop()
        # getOrCreate flags the whole process as Connect (pyspark.sql.utils.is_remote); the classic
        # session of the other test modules must not see that flag.
        os.environ.pop("SPARK_CONNECT_MODE_ENABLED", None)


@pytest.fixture(scope="module")
def rdata(remote):
    return remote.createDataFrame(planted_rows(), SCHEMA)


@pytest.fixture(scope="module")
def rmodel(rdata):
    learner = PolicyTreeLearner(featureCols=FEATURES, treatmentCol="treatment", outcomeCol="outcome",
                                propensityCol="propensity", maxDepth=2)
    return learner.fit(rdata)


def scored_rows(df):
    return [tuple(r) for r in df.select("id", *OUTPUT).orderBy("id").collect()]


def test_server_listens_on_loopback_only(server, remote):
    addresses = listening_addresses(server["port"])
    # 127.0.0.1 as /proc shows it: IPv4, or IPv4-mapped in tcp6 (Java's dual-stack socket); a wildcard
    # bind would show 00000000 or all zeros.
    loopback = {"0100007F", "0000000000000000FFFF00000100007F"}
    assert addresses and set(addresses) <= loopback, addresses
    assert remote.conf.get("spark.driver.host") == "127.0.0.1"
    assert remote.conf.get("spark.ui.enabled") == "false"
    assert remote.version == "4.1.0"


def test_fit_and_transform_recover_the_planted_policy(remote, rdata, rmodel):
    assert type(rmodel) is PolicyTreeModel
    # depth and numNodes come from the model's toString, the one method Connect lets us call.
    assert rmodel.depth == 2 and rmodel.numNodes == 5
    assert rmodel.getFeatureCols() == FEATURES and rmodel.getMaxDepth() == 2
    rows = rmodel.transform(rdata).select("x0", "x1", *OUTPUT).collect()
    assert len(rows) == 3000
    arms = ["a", "b", "c"]
    for r in rows:
        assert r.policy_action == planted_arm(r.x0, r.x1)
        assert arms[r.policy_action_index] == r.policy_action
        assert max(r.policy_scores) == r.policy_scores[r.policy_action_index]


def test_model_methods_outside_the_allow_list_fail_clearly(rdata, rmodel):
    from pyspark.errors.exceptions.connect import SparkException

    # What the server answers to a direct call: Spark's allow-list refuses it.
    for method in ("toDebugString", "signatures", "getTreatmentVocabulary", "toSqlExpression"):
        with pytest.raises(SparkException, match="ATTRIBUTE_NOT_ALLOWED"):
            rmodel._call_java(method)
    # The wrappers refuse before the round trip and name what to do instead.
    calls = {"toDebugString": lambda: rmodel.toDebugString, "signatures": lambda: rmodel.signatures,
             "getTreatmentVocabulary": rmodel.getTreatmentVocabulary,
             "bestArmOnTraining": lambda: rmodel.bestArmOnTraining, "splitBoundaries": lambda: rmodel.splitBoundaries,
             "toSqlExpression": rmodel.toSqlExpression, "transformWithSql": lambda: rmodel.transformWithSql(rdata),
             "inputSignature": lambda: rmodel.inputSignature(rdata), "outputSignature": lambda: rmodel.outputSignature(rdata)}
    for name, call in calls.items():
        with pytest.raises(ConnectUnsupportedError, match=f"{name} is not available over Spark Connect"):
            call()


def test_evaluate_matches_a_direct_computation(rdata, rmodel):
    arms = ["a", "b", "c"]
    gamma = F.array(*[F.when(F.col("treatment") == a, F.col("outcome") / F.col("propensity")).otherwise(F.lit(0.0))
                      for a in arms])
    scored = rmodel.transform(rdata).withColumn("gamma", gamma)
    pairs = [(r.policy_action_index, r.gamma) for r in scored.select("policy_action_index", "gamma").collect()]
    direct = sum(g[a] for a, g in pairs) / len(pairs)
    value = PolicyValueEvaluator(rewardsCol="gamma").evaluate(scored)
    assert value == pytest.approx(direct, abs=1e-9)
    gain = PolicyValueEvaluator(rewardsCol="gamma", treatmentVocabulary=arms, baselineArm="c",
                                metricName="gainOverBaseline").evaluate(scored)
    assert gain == pytest.approx(direct - sum(g[2] for _, g in pairs) / len(pairs), abs=1e-9)
    with pytest.raises(ConnectUnsupportedError, match="summary"):
        PolicyValueEvaluator(rewardsCol="gamma").summary(scored)
    with pytest.raises(ConnectUnsupportedError, match="setModel"):
        PolicyValueEvaluator(rewardsCol="gamma").setModel(rmodel)


def test_save_and_load_over_connect(remote, rdata, rmodel, tmp_path):
    # The path is on the server's file system (the same machine here).
    path = str(tmp_path / "model")
    rmodel.write().overwrite().save(path)
    loaded = PolicyTreeModel.load(path)
    assert type(loaded) is PolicyTreeModel and loaded.uid == rmodel.uid
    assert loaded.getFeatureCols() == FEATURES and loaded.getMaxDepth() == 2 and loaded.numNodes == 5
    assert scored_rows(loaded.transform(rdata)) == scored_rows(rmodel.transform(rdata))
    # What the blocked methods would say, read from the saved metadata as plain data.
    info = saved_model_info(remote, path)
    assert info["uid"] == rmodel.uid and info["vocabulary"] == ["a", "b", "c"] and info["bestArmOnTraining"] == "a"
    assert info["featureCols"] == FEATURES and [len(b) for b in info["boundaries"]] == [9, 9, 3]
    assert list(info["signatures"]) == ["manifest", "boundaries", "model", "decisions", "input", "output"]
    assert info["numRows"] == 3000 and info["rewardType"] == "aipw"

    learner = PolicyTreeLearner(featureCols=["x0", "x1"], treatmentCol="treatment", outcomeCol="outcome", maxDepth=4)
    learner.write().overwrite().save(str(tmp_path / "learner"))
    again = PolicyTreeLearner.load(str(tmp_path / "learner"))
    assert again.uid == learner.uid and again.getMaxDepth() == 4 and again.getFeatureCols() == ["x0", "x1"]
    evaluator = PolicyValueEvaluator(rewardsCol="gamma", baselineArm="c")
    evaluator.write().overwrite().save(str(tmp_path / "evaluator"))
    again = PolicyValueEvaluator.load(str(tmp_path / "evaluator"))
    assert again.uid == evaluator.uid and again.getOrDefault("baselineArm") == "c"


def test_hash_splits_over_connect_are_the_scala_ones(rdata):
    # Expected values come from the Scala HashSplit through a classic session (test_evaluation.py checks
    # the same numbers there), so the DataFrame-function twin used over Connect picks the same rows.
    train, test = train_test_split(rdata, 0.7, ["id"])
    ids = [r.id for r in train.select("id").collect()]
    assert (len(ids), sum(ids)) == TRAIN_IDS and train.count() + test.count() == 3000
    folds = with_fold_column(rdata, 3, key_cols=["id"]).groupBy("fold").count().orderBy("fold").collect()
    assert [(r.fold, r["count"]) for r in folds] == FOLD_COUNTS


def test_cross_validation_with_hash_folds_over_connect(rdata):
    from pyspark.ml.tuning import CrossValidator, ParamGridBuilder

    arms = ["a", "b", "c"]
    gamma = F.array(*[F.when(F.col("treatment") == a, F.col("outcome") / F.col("propensity")).otherwise(F.lit(0.0))
                      for a in arms])
    folded = with_fold_column(rdata, 3, key_cols=["id"]).withColumn("gamma", gamma)
    learner = PolicyTreeLearner(featureCols=FEATURES, treatmentCol="treatment", outcomeCol="outcome",
                                propensityCol="propensity")
    grid = ParamGridBuilder().addGrid(learner.maxDepth, [1, 2]).build()
    cv = CrossValidator(estimator=learner, estimatorParamMaps=grid, evaluator=PolicyValueEvaluator(rewardsCol="gamma"),
                        foldCol="fold").fit(folded)
    assert cv.bestModel.depth == 2
    assert len(cv.avgMetrics) == 2 and cv.avgMetrics[1] > cv.avgMetrics[0]


def test_forest_fit_transform_save_load_over_connect(remote, rdata, tmp_path):
    # Registered like the tree (META-INF/services); seed is a LongParam, sent as an int literal.
    forest = PolicyForestLearner(featureCols=FEATURES, treatmentCol="treatment", outcomeCol="outcome",
                                 propensityCol="propensity", numTrees=3, maxDepth=2, seed=7).fit(rdata)
    assert type(forest) is PolicyForestModel
    assert forest.numTreesFitted == forest.getNumTreesFitted() == 3  # from toString, as the tree's depth
    assert forest.getNumTrees() == 3 and forest.getSeed() == 7 and forest.getThresholdSearch() == "exact"
    outputs = ["policy_action", "policy_action_index", "policy_scores", "policy_leaves"]
    rows = [tuple(r) for r in forest.transform(rdata).select("id", "x0", "x1", *outputs).orderBy("id").collect()]
    assert len(rows) == 3000 and all(len(r[-1]) == 3 for r in rows)
    assert sum(r[3] == planted_arm(r[1], r[2]) for r in rows) >= 0.95 * len(rows)
    path = str(tmp_path / "forest")
    forest.write().overwrite().save(path)
    loaded = PolicyForestModel.load(path)
    assert type(loaded) is PolicyForestModel and loaded.uid == forest.uid and loaded.numTreesFitted == 3
    again = [tuple(r) for r in loaded.transform(rdata).select("id", "x0", "x1", *outputs).orderBy("id").collect()]
    assert again == rows
    info = saved_model_info(remote, path)
    assert info["numTrees"] == 3 and info["vocabulary"] == ["a", "b", "c"] and info["featureCols"] == FEATURES
    for name, call in {"trees": lambda: forest.trees, "featureImportances": lambda: forest.featureImportances,
                       "toDebugString": lambda: forest.toDebugString, "signatures": lambda: forest.signatures,
                       "getTreatmentVocabulary": forest.getTreatmentVocabulary}.items():
        with pytest.raises(ConnectUnsupportedError, match=f"{name} is not available over Spark Connect"):
            call()


EXPORT_SQL = """
import sys, sparkpolicy
from pyspark.sql import SparkSession
from sparkpolicy.ml import PolicyTreeModel
spark = (SparkSession.builder.master("local[1]").config("spark.jars", sparkpolicy.jar_path())
         .config("spark.driver.host", "127.0.0.1").config("spark.driver.bindAddress", "127.0.0.1")
         .config("spark.ui.enabled", "false").getOrCreate())
open(sys.argv[2], "w").write(PolicyTreeModel.load(sys.argv[1]).toSqlExpression())
spark.stop()
"""


def test_sql_expression_fallback_scores_over_connect(rdata, rmodel, tmp_path):
    # The fallback for clients that cannot call toSqlExpression (or load native code): export the
    # expression once with a classic session, then any Connect client scores with F.expr alone.
    path, sql_file = str(tmp_path / "model"), tmp_path / "policy.sql"
    rmodel.write().overwrite().save(path)
    env = {k: v for k, v in os.environ.items() if k != "SPARK_CONNECT_MODE_ENABLED"}
    env.update(SPARK_HOME=SPARK_HOME, SPARK_LOCAL_IP="127.0.0.1")
    proc = subprocess.run([sys.executable, "-c", EXPORT_SQL, path, str(sql_file)], env=env, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-5000:]
    policy = F.expr(sql_file.read_text())
    by_sql = rdata.withColumn("__policy", policy).select(*rdata.columns, *[F.col(f"__policy.{c}").alias(c) for c in OUTPUT])
    assert scored_rows(by_sql) == scored_rows(rmodel.transform(rdata))


def test_doubly_robust_scores_and_qini_over_connect(remote, rdata):
    # DoublyRobustScores is a plain transformer to Connect: built by (uid), Params by name, Γ bit-identical in any layout.
    scores = DoublyRobustScores(featureCols=FEATURES, treatmentCol="treatment", outcomeCol="outcome")
    once = {r.id: list(r.rewards) for r in scores.transform(rdata).select("id", "rewards").collect()}
    again = {r.id: list(r.rewards) for r in scores.transform(rdata.repartition(3)).select("id", "rewards").collect()}
    assert len(once) == 3000 and all(len(g) == 3 for g in once.values()) and once == again
    # A Spark ML regressor cannot travel as a Param: refused up front, never silently ignored.
    from pyspark.ml.regression import LinearRegression
    with pytest.raises(ConnectUnsupportedError, match="setOutcomeModel is not available over Spark Connect"):
        scores.setOutcomeModel(LinearRegression())
    # QiniEvaluator.evaluate matches scikit-uplift's number on the committed fixture (read by the server).
    small = remote.read.option("header", "true").schema("score double, arm string, y int").csv(
        os.path.abspath(os.path.join(FIXTURES, "small.csv")))
    qini = QiniEvaluator(upliftCol="score", treatmentCol="arm", outcomeCol="y", treatmentArm="t", controlArm="c")
    assert qini.evaluate(small) == pytest.approx(float(expected("small")[("qini_auc_score", -1)]), rel=1e-12)

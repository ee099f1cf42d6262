"""Planted-policy data built in plain Python, and a small job for `spark-submit` (see test_spark_submit.py).

    spark-submit --master local[2] --jars "$(python -c 'import sparkpolicy; print(sparkpolicy.jar_path())')" \
        planted_job.py OUT_DIR

fits a depth-2 tree, scores the rows natively and through SQL, saves and reloads the model, and prints
one `sparkpolicy-job:` line that the test checks.
"""
import sys

ARMS = ["a", "b", "c"]
FEATURES = ["x0", "x1", "x2"]
SCHEMA = "id long, x0 double, x1 double, x2 int, treatment string, propensity double, outcome double"


def planted_arm(x0, x1):
    """The policy the data plants: a left of x0 = 0.5; right of it, b below x1 = 0.3, else c."""
    if x0 < 0.5:
        return "a"
    return "b" if x1 < 0.3 else "c"


def planted_rows(n=3000):
    """Deterministic, balanced rows: x0, x1 on a 0.1 grid and the arm (i % 3) independent of them;
    outcome 2 under the planted arm and 1 otherwise, propensity 1/3; x2 (int) is irrelevant."""
    rows = []
    for i in range(n):
        x0 = (i * 7 % 10) / 10.0
        x1 = (i // 30 % 10) / 10.0
        arm = ARMS[i % 3]
        outcome = 2.0 if arm == planted_arm(x0, x1) else 1.0
        rows.append((i, x0, x1, i % 4, arm, 1.0 / 3.0, outcome))
    return rows


def main(out_dir):
    from pyspark.sql import SparkSession
    from sparkpolicy.ml import PolicyTreeLearner, PolicyTreeModel

    spark = SparkSession.builder.appName("sparkpolicy-submit-job").getOrCreate()
    try:
        df = spark.createDataFrame(planted_rows(), SCHEMA)
        model = PolicyTreeLearner(featureCols=FEATURES, treatmentCol="treatment", outcomeCol="outcome",
                                  propensityCol="propensity", maxDepth=2).fit(df)
        scored = model.transform(df).select("x0", "x1", "policy_action").collect()
        agree = sum(r.policy_action == planted_arm(r.x0, r.x1) for r in scored)
        native, sql = model.transform(df), model.transformWithSql(df)
        same_sql = native.exceptAll(sql).count() == 0 and sql.exceptAll(native).count() == 0
        model.write().overwrite().save(out_dir)
        reloaded = PolicyTreeModel.load(out_dir)
        print(f"sparkpolicy-job: spark={spark.version} master={spark.sparkContext.master} rows={len(scored)} "
              f"agree={agree} sql_equal={same_sql} reload_equal={reloaded.signatures == model.signatures} "
              f"model={model.signatures['model']}", flush=True)
    finally:
        spark.stop()


if __name__ == "__main__":
    main(sys.argv[1])

"""A string feature end to end through the Python API: categorical split, unseen labels, both backends, reload."""
import pytest
from pyspark.sql import functions as F

from sparkpolicy.ml import PolicyTreeLearner, PolicyTreeModel

OUTPUT = ["policy_action", "policy_action_index", "policy_scores", "policy_leaf"]


@pytest.fixture(scope="module")
def regions(spark):
    labels = F.element_at(F.array(*[F.lit(x) for x in ["north", "south", "east", "west"]]),
                          ((F.col("id") * 31) % 4 + 1).cast("int"))
    return (spark.range(2000)
            .withColumn("region", F.when(F.col("id") % 13 == 0, F.lit(None).cast("string")).otherwise(labels))
            .withColumn("x", (F.col("id") * 7919 % 1000) / 1000.0)
            .withColumn("g0", F.lit(0.5))
            .withColumn("g1", F.when(F.col("region") == "south", 1.0).otherwise(0.0)))


def test_string_feature_splits_by_category(spark, regions, tmp_path):
    model = PolicyTreeLearner(featureCols=["x", "region"], rewardCols=["g0", "g1"], maxDepth=1,
                              categoryOrders={"region": ["north", "south", "east", "west"]}).fit(regions)
    assert 'region == "south"' in model.toDebugString
    unseen = spark.range(2000, 2010).select("id", F.lit("mars").alias("region"), F.lit(0.3).alias("x"),
                                            F.lit(0.5).alias("g0"), F.lit(0.0).alias("g1"))
    test = regions.unionByName(unseen)
    # The count is an accumulator: it adds up every computation of the output, so compute it once (cached).
    scored = model.transform(test).cache()
    assert scored.count() == 2010
    assert model.unseenCategoryCount == 10
    rows = scored.select("region", "policy_action_index").collect()
    for r in rows:
        assert r.policy_action_index == (1 if r.region == "south" else 0), r
    native = [tuple(r) for r in model.transform(test).select("id", *OUTPUT).orderBy("id").collect()]
    sql = [tuple(r) for r in model.transformWithSql(test).select("id", *OUTPUT).orderBy("id").collect()]
    assert native == sql
    path = str(tmp_path / "cat-model")
    model.save(path)
    assert PolicyTreeModel.load(path).toDebugString == model.toDebugString

"""Forest scoring against a lean PySpark peer (GitHub issue #13): the reference paper's workload, a 50-tree depth-7
forest over 4 arms and 16 features scoring a Parquet file (10M rows by default), by the toolkit's native plan node and
by a hand-written ``mapInArrow`` NumPy scorer of the same forest, against Spark's read floor, in one PySpark session.

The peer is as lean as we could write it (the paper's own code is far slower): the forest's node tables are padded to
complete trees held as NumPy arrays (a leaf above the bottom steps left, as the native walk does), and each Arrow batch
walks all its rows one level at a time per tree with vectorized gathers (``2·id + right``), then sums the leaf values in
tree order from 0.0 and divides by the number of trees, exactly the toolkit's vote, so its scores are checked equal to
the native ones bit for bit before anything is timed. It outputs what the native node outputs without
``policy_leaves`` (an action index and the score array), and is compared with both native variants.

Cases run round-robin (one warm-up each, then ``--reps`` timed runs; median, min and max), each a ``noop`` write.
``make bench-forest-peer`` → benches/results/forest-peer.json (``--rows`` other than 10M writes forest-peer-quick.json).
"""
import argparse
import datetime
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import quality as q  # noqa: E402  (the Spark session)

FEATURES = 16
ARMS = 4


def padded_forest(model_dir):
    """The saved forest's node tables (``data/``) as NumPy arrays of complete trees of the deepest tree's depth D:
    per tree and heap id 1 .. 2^D - 1 the split's feature, threshold and missing side (pass-through: +inf, left), and
    per bottom slot the K values of the leaf it stands for."""
    nodes = pq.read_table(os.path.join(model_dir, "data")).to_pandas()
    if nodes["categorical"].any():
        raise SystemExit("the lean peer handles numeric splits only; this forest has a categorical split")
    n_trees = int(nodes["tree"].max()) + 1
    depth = max(int(i).bit_length() - 1 for i in nodes["node_id"])
    size = 1 << depth
    feature = np.zeros((n_trees, size), np.int64)
    threshold = np.full((n_trees, size), np.inf)
    missing_left = np.ones((n_trees, size), bool)
    values = np.zeros((n_trees, size, ARMS))
    for t, tree in nodes.groupby("tree"):
        leaf_of = np.zeros(2 * size, np.int64)
        leaf_values = {}
        for n in tree.sort_values("node_id").itertuples():
            i = int(n.node_id)
            if n.is_leaf:
                leaf_of[i] = i
                leaf_values[i] = np.asarray(n.values, float)
            else:
                feature[t, i], threshold[t, i], missing_left[t, i] = n.feature, n.threshold, n.missing_left
        for i in range(2, 2 * size):
            if leaf_of[i] == 0:
                leaf_of[i] = leaf_of[i // 2]
        for s in range(size):
            values[t, s] = leaf_values[leaf_of[size + s]]
    return {"depth": depth, "feature": feature, "threshold": threshold, "missing_left": missing_left, "values": values}


def numpy_scores(forest, x):
    """(action index, n × K scores) of the rows of ``x`` (n × F float64, NaN = missing)."""
    n, depth = x.shape[0], forest["depth"]
    flat = np.ascontiguousarray(x).ravel()
    base = np.arange(n) * x.shape[1]
    any_nan = bool(np.isnan(flat).any())
    acc = np.zeros((n, ARMS))
    for t in range(forest["feature"].shape[0]):
        feature, threshold, missing_left = forest["feature"][t], forest["threshold"][t], forest["missing_left"][t]
        ids = np.ones(n, np.int64)
        for _ in range(depth):
            v = flat[base + feature[ids]]
            left = v <= threshold[ids]
            if any_nan:
                left |= np.isnan(v) & missing_left[ids]
            ids = 2 * ids + ~left
        acc += forest["values"][t][ids - (1 << depth)]
    acc /= forest["feature"].shape[0]
    return acc.argmax(axis=1).astype(np.int32), acc


def peer_udf(forest, feature_cols):
    def score(batches):
        for b in batches:
            x = np.column_stack([b.column(c).to_numpy(zero_copy_only=False) for c in feature_cols])
            action, acc = numpy_scores(forest, x)
            offsets = pa.array(np.arange(0, ARMS * (len(action) + 1), ARMS, dtype=np.int32))
            yield pa.RecordBatch.from_arrays([pa.array(action), pa.ListArray.from_arrays(offsets, pa.array(acc.ravel()))],
                                             names=["action", "scores"])
    return score


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--fit-rows", type=int, default=200_000)
    parser.add_argument("--trees", type=int, default=50)
    parser.add_argument("--depth", type=int, default=7)
    parser.add_argument("--reps", type=int, default=3)
    args = parser.parse_args()
    from pyspark.sql import functions as F

    from sparkpolicy.ml import PolicyForestLearner

    spark = q.spark_session()
    tmp = tempfile.mkdtemp(prefix="sparkpolicy-forest-peer")
    load_before = " ".join(open("/proc/loadavg").read().split()[:3])
    try:
        feature_cols = [f"x{f}" for f in range(FEATURES)]
        data_dir = os.path.join(tmp, "data")
        start = time.perf_counter()
        spark.range(args.rows, numPartitions=16).select(*[F.rand(100 + f).alias(c) for f, c in enumerate(feature_cols)]) \
            .write.parquet(data_dir)
        print(f"== forest vs lean PySpark peer: {args.rows} rows × {FEATURES} features, Parquet written in "
              f"{time.perf_counter() - start:.1f} s", flush=True)
        features = spark.read.parquet(data_dir)
        # Four arms whose means differ little next to their noise, so the trees grow to full depth (as ForestBench).
        fit = features.limit(args.fit_rows).select(
            *feature_cols, *[(0.2 * F.sin(3.0 * F.col(f"x{a}")) + F.randn(200 + a)).alias(f"r{a}") for a in range(ARMS)])
        start = time.perf_counter()
        model = PolicyForestLearner(featureCols=feature_cols, rewardCols=[f"r{a}" for a in range(ARMS)],
                                    numTrees=args.trees, maxDepth=args.depth, minNodeSize=5, seed=7).fit(fit)
        fit_seconds = time.perf_counter() - start
        model_dir = os.path.join(tmp, "forest")
        model.save(model_dir)
        forest = padded_forest(model_dir)
        print(f"  fitted {model.numTreesFitted} trees (padded depth {forest['depth']}) in {fit_seconds:.1f} s", flush=True)

        # Untimed: the peer's scores equal the native ones, bit for bit, on the first 20,000 rows.
        sample = features.limit(20_000).toPandas()
        native = model.transform(spark.createDataFrame(sample)).select("policy_action_index", "policy_scores").toPandas()
        action, acc = numpy_scores(forest, sample[feature_cols].to_numpy())
        if not (np.array_equal(np.stack(native["policy_scores"].to_numpy()), acc)
                and np.array_equal(native["policy_action_index"].to_numpy(), action)):
            raise SystemExit("the NumPy peer and the native forest disagree")
        print("  NumPy peer and native forest agree bit for bit on 20,000 rows", flush=True)

        udf = peer_udf(forest, feature_cols)
        noop = lambda df: df.write.format("noop").mode("overwrite").save()  # noqa: E731
        cases = {
            "a_floor_noop": lambda: noop(features),
            "c_native_forest": lambda: noop(model.transform(features)),
            "c_native_forest_no_leaves": lambda: noop(model.transform(features).drop("policy_leaves")),
            "f_numpy_mapInArrow": lambda: noop(features.mapInArrow(udf, "action int, scores array<double>")),
        }
        seconds = {c: [] for c in cases}
        for rep in range(args.reps + 1):
            for c, run in cases.items():
                start = time.perf_counter()
                run()
                took = time.perf_counter() - start
                if rep > 0:
                    seconds[c].append(took)
                print(f"  {'warm-up' if rep == 0 else f'rep {rep}'} {c}: {took:.2f} s", flush=True)
        median = {c: statistics.median(s) for c, s in seconds.items()}
        floor = median["a_floor_noop"]
        for c in cases:
            print(f"  {c:28s} {median[c]:8.2f} s {args.rows / median[c] / 1e6:6.2f} M rows/s {median[c] / floor:5.2f}× floor "
                  f"[{min(seconds[c]):.2f}–{max(seconds[c]):.2f}]")
        full = args.rows == 10_000_000 and args.trees == 50 and args.depth == 7 and args.reps >= 3
        out = os.path.join(HERE, "results", "forest-peer.json" if full else "forest-peer-quick.json")
        result = {
            "benchmark": "native forest scoring vs a lean PySpark mapInArrow NumPy scorer (benches/forest_peer.py)",
            "date": datetime.datetime.now(datetime.timezone.utc).isoformat(),
            "cpu_model": platform.processor() or platform.machine(), "logical_cpus": os.cpu_count(),
            "spark_master": "local[2]", "spark_version": spark.version, "python_version": platform.python_version(),
            "numpy_version": np.__version__, "pyarrow_version": pa.__version__,
            "load_average_before": load_before, "load_average_after": " ".join(open("/proc/loadavg").read().split()[:3]),
            "rows": args.rows, "features": FEATURES, "arms": ARMS, "trees": args.trees, "max_depth": args.depth,
            "padded_depth": forest["depth"], "fit_rows": args.fit_rows, "fit_seconds": fit_seconds,
            "repetitions": args.reps, "statistic": "median of the timed repetitions, after one warm-up run per case",
            "cases": {c: {"median_seconds": median[c], "rows_per_sec": args.rows / median[c], "seconds": seconds[c],
                          "time_vs_floor": median[c] / floor} for c in cases},
            "ratios": {
                "native_forest_time_vs_floor": median["c_native_forest"] / floor,
                "numpy_peer_time_vs_native_forest": median["f_numpy_mapInArrow"] / median["c_native_forest"],
                "numpy_peer_time_vs_native_forest_no_leaves":
                    median["f_numpy_mapInArrow"] / median["c_native_forest_no_leaves"],
            },
        }
        with open(out, "w") as fh:
            json.dump(result, fh, indent=2)
        print(f"wrote {out}")
    finally:
        spark.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()

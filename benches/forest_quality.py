"""Forest quality benchmark (GitHub issue #13): the toolkit's PolicyForestLearner against its PolicyTreeLearner and
EconML's PolicyTree and PolicyForest, on the planted DGPs of benches/quality.py.

Every learner fits the SAME given rewards Γ (n × K: μ + noise) of a DGP and is scored on a holdout where μ is known,
as in quality.py: share of achievable gain = (value − best constant) / (oracle − best constant). The training seeds and
the test seed are quality.py's (1000·(DGP index + 1) + rep, 10,000 + DGP index), so at the same sizes the tree and
EconML figures reproduce benches/results/quality.json. Within each seed the learners fit in turn (round-robin), and
each setting reports the median, min and max over the seeds, plus the paired forest − tree differences.

Run it with ``make bench-forest-quality`` (the bench virtualenv of ``make bench-quality``); ``--quick`` is a smoke run
that writes ``benches/results/forest-quality-quick.json`` (git-ignored). See docs/benchmarks.md.
"""
import argparse
import datetime
import json
import os
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import quality as q  # noqa: E402  (the DGPs, the scoring and the Spark session)

ROOT = q.ROOT


def fit_toolkit_forest(depth, trees, train_sdf, test_sdf, feature_cols, reward_cols):
    """PolicyForestLearner with EconML PolicyForest's sampling defaults (which are the toolkit's): honest,
    subsamplingRate 0.5, every feature at every node; minNodeSize 1; maxBins 64, exact thresholds (the default since
    2026-12-03; the first full run, in docs/benchmarks.md, had binned ones)."""
    from sparkpolicy.ml import PolicyForestLearner

    learner = PolicyForestLearner(featureCols=feature_cols, rewardCols=reward_cols, maxDepth=depth, numTrees=trees,
                                  minNodeSize=1, seed=42)
    start = time.perf_counter()
    model = learner.fit(train_sdf)
    seconds = time.perf_counter() - start
    index_of = {label: reward_cols.index(label) for label in model.getTreatmentVocabulary()}
    start = time.perf_counter()
    scored = model.transform(test_sdf).select("id", "policy_action").toPandas().sort_values("id")
    actions = scored["policy_action"].map(index_of).to_numpy(dtype=np.int64)
    java_model = model._java_obj
    info = {"score_seconds": time.perf_counter() - start,
            "model_params": {name: java_model.getOrDefault(java_model.getParam(name))
                             for name in ("numTrees", "maxDepth", "subsamplingRate", "featureSubsetStrategy", "honest",
                                          "maxBins", "thresholdSearch", "minNodeSize", "seed")},
            "trees_fitted": model.numTreesFitted, "feature_subset_size": model.featureSubsetSize}
    return actions, seconds, info


def learners(args):
    """(label, description, fit(depth, seed, data) -> (actions, fit seconds, info)) in the order they run."""
    from econml.policy import PolicyForest, PolicyTree

    def toolkit_tree(depth, seed, d):
        actions, seconds, _, info = q.fit_toolkit(d["spark"], {}, depth, d["train_sdf"], d["test_sdf"],
                                                  d["feature_cols"], d["reward_cols"])
        return actions, seconds, info

    def toolkit_forest(depth, seed, d):
        return fit_toolkit_forest(depth, args.trees, d["train_sdf"], d["test_sdf"], d["feature_cols"], d["reward_cols"])

    def econml(make):
        def fit(depth, seed, d):
            actions, seconds, score_seconds, _ = q.fit_econml(make, depth, seed, d["X"], d["gamma"], d["X_test"],
                                                              d["names"])
            return actions, seconds, {"score_seconds": score_seconds}
        return fit

    return [
        ("sparkpolicy PolicyTreeLearner", "PolicyTreeLearner(maxDepth=d), given rewards, defaults (exact thresholds, "
         "greedy, minNodeSize=1)", toolkit_tree),
        ("sparkpolicy PolicyForestLearner", f"PolicyForestLearner(numTrees={args.trees}, maxDepth=d, minNodeSize=1, "
         "seed=42), else defaults: honest, subsamplingRate=0.5, featureSubsetStrategy='all', maxBins=64 (binned)",
         toolkit_forest),
        ("econml PolicyTree", "PolicyTree(max_depth=d, min_samples_leaf=1), else defaults (honest=True, "
         "min_balancedness_tol=0.45)", econml(lambda depth, seed: PolicyTree(max_depth=depth, min_samples_leaf=1,
                                                                             random_state=seed))),
        ("econml PolicyForest", f"PolicyForest(n_estimators={args.trees}, max_depth=d, min_samples_leaf=1, n_jobs=2), "
         "else defaults (honest=True, max_samples=0.5, max_features='auto' = all, min_balancedness_tol=0.45)",
         econml(lambda depth, seed: PolicyForest(n_estimators=args.trees, max_depth=depth, min_samples_leaf=1,
                                                 n_jobs=2, random_state=seed))),
    ]


def stats(values):
    v = np.asarray(values, dtype=float)
    return {"median": float(np.median(v)), "min": float(v.min()), "max": float(v.max()), "mean": float(v.mean()),
            "sd": float(v.std(ddof=1)) if len(v) > 1 else 0.0}


def run(args):
    load_before = os.getloadavg()
    wall_start = time.perf_counter()
    spark = q.spark_session()
    spark.sparkContext.setLogLevel("WARN")
    fitters = learners(args)
    warm_feats, warm_mu = q.dgp_heavy_tails(np.random.default_rng(1), 5000)  # JVM warm-up, untimed
    warm = q.to_spark(spark, warm_feats, warm_mu, ["g0", "g1", "g2"])
    q.fit_toolkit(spark, {}, 2, warm, warm, list(warm_feats.columns), ["g0", "g1", "g2"])
    fit_toolkit_forest(2, 10, warm, warm, list(warm_feats.columns), ["g0", "g1", "g2"])
    warm.unpersist()
    results = []
    for dgp in [d for d in q.DGPS if not args.only or d["name"] in args.only]:
        d_index = q.DGPS.index(dgp)
        dgp_start, dgp_load = time.perf_counter(), os.getloadavg()
        test_feats, test_mu = dgp["make"](np.random.default_rng(10_000 + d_index), args.n_test)
        ref = q.reference_values(test_mu)
        reward_cols = [f"g{a}" for a in range(test_mu.shape[1])]
        feature_cols = list(test_feats.columns)
        categorical = [c for c in feature_cols if test_feats[c].dtype == object]
        X_test, names = q.one_hot(test_feats, categorical)
        data = {"spark": spark, "test_sdf": q.to_spark(spark, test_feats), "X_test": X_test, "names": names,
                "feature_cols": feature_cols, "reward_cols": reward_cols}
        entry = {"name": dgp["name"], "description": " ".join(dgp["make"].__doc__.split()), "arms": len(reward_cols),
                 "features": len(feature_cols), "reference": ref, "settings": []}
        print(f"\n== {dgp['name']}: K={len(reward_cols)}, {len(feature_cols)} features", flush=True)
        depths = [x for x in dgp["depths"] if not args.depths or x in args.depths] or dgp["depths"][:1]
        for depth in depths:
            runs = {label: [] for label, _, _ in fitters}
            for rep in range(args.reps):
                seed = 1000 * (d_index + 1) + rep
                rng = np.random.default_rng(seed)
                feats, mu = dgp["make"](rng, args.n_train)
                gamma = mu + dgp["noise"](rng, mu.shape)
                data.update(train_sdf=q.to_spark(spark, feats, gamma, reward_cols), X=q.one_hot(feats, categorical)[0],
                            gamma=gamma)
                for label, _, fit in fitters:
                    actions, seconds, info = fit(depth, seed, data)
                    value = q.policy_value(test_mu, actions)
                    runs[label].append({"seed": seed, "value": value, "share": q.share_of_gain(value, ref),
                                        "fit_seconds": seconds, **info})
                data["train_sdf"].unpersist()
            setting = {"depth": depth, "learners": []}
            for label, _, _ in fitters:
                s = stats([r["share"] for r in runs[label]])
                t = stats([r["fit_seconds"] for r in runs[label]])
                setting["learners"].append({"learner": label, "share": s, "fit_seconds": t, "runs": runs[label]})
                print(f"  depth {depth}  {label:32s} share {s['median']:7.3f} [{s['min']:.3f}, {s['max']:.3f}]  "
                      f"fit {t['median']:6.2f} s", flush=True)
            paired = {}
            for a, b in (("sparkpolicy PolicyForestLearner", "sparkpolicy PolicyTreeLearner"),
                         ("sparkpolicy PolicyForestLearner", "econml PolicyForest"),
                         ("econml PolicyForest", "econml PolicyTree")):
                diff = [x["share"] - y["share"] for x, y in zip(runs[a], runs[b])]
                paired[f"{a} - {b}"] = {"per_seed": diff, **stats(diff)}
            setting["paired_share_differences"] = paired
            entry["settings"].append(setting)
        data["test_sdf"].unpersist()
        entry["wall_seconds"] = time.perf_counter() - dgp_start
        entry["load_average"] = {"before": list(dgp_load), "after": list(os.getloadavg())}
        print(f"  ({entry['wall_seconds']:.0f} s, load average {os.getloadavg()[0]:.1f})", flush=True)
        results.append(entry)
    info = {"benchmark": "forest quality: PolicyForestLearner vs PolicyTreeLearner vs EconML (benches/forest_quality.py)",
            "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"), **q.machine_info(),
            "load_average_before": list(load_before), "load_average_after": list(os.getloadavg()),
            "wall_seconds": time.perf_counter() - wall_start, "spark_master": "local[2]",
            "versions": q.versions(spark),
            "settings": {"n_train": args.n_train, "n_test": args.n_test, "reps": args.reps, "trees": args.trees,
                         "learners": {label: doc for label, doc, _ in fitters},
                         "share_of_gain": "(value - best constant) / (oracle - best constant), on the test set's true mu",
                         "statistic": "median, min and max over the training seeds; learners fit in turn per seed"},
            "dgps": results}
    spark.stop()
    return info


def markdown(info):
    labels = [l["learner"] for l in info["dgps"][0]["settings"][0]["learners"]]
    short = [l.replace("sparkpolicy ", "").replace("econml ", "EconML ") for l in labels]
    def header(cols):
        return "| DGP | depth | " + " | ".join(cols) + " |\n| --- | --- |" + " ---: |" * len(cols)

    shares, times = [header(short + ["forest − tree (toolkit)"])], [header(short)]
    for dgp in info["dgps"]:
        for s in dgp["settings"]:
            cells = [f"{l['share']['median']:.3f} [{l['share']['min']:.3f}, {l['share']['max']:.3f}]" for l in s["learners"]]
            d = s["paired_share_differences"]["sparkpolicy PolicyForestLearner - sparkpolicy PolicyTreeLearner"]
            cells.append(f"{d['median']:+.3f} [{d['min']:+.3f}, {d['max']:+.3f}]")
            shares.append(f"| {dgp['name']} | {s['depth']} | " + " | ".join(cells) + " |")
            times.append(f"| {dgp['name']} | {s['depth']} | " +
                         " | ".join(f"{l['fit_seconds']['median']:.2f}" for l in s["learners"]) + " |")
    return "\n".join(shares), "\n".join(times)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n-train", type=int, default=30_000)
    parser.add_argument("--n-test", type=int, default=100_000)
    parser.add_argument("--reps", type=int, default=3, help="training sets (seeds) per DGP and depth")
    parser.add_argument("--trees", type=int, default=100, help="trees in both forests")
    parser.add_argument("--only", nargs="*", help="DGP names to run (default: all)")
    parser.add_argument("--depths", nargs="*", type=int,
                        help="depths to run where the DGP lists them (default: every depth the DGP lists)")
    parser.add_argument("--quick", action="store_true", help="5,000 / 20,000 rows, 1 seed, 20 trees; forest-quality-quick.json")
    parser.add_argument("--out", default=None)
    args = parser.parse_args(argv)
    if args.quick:
        args.n_train, args.n_test, args.reps, args.trees = 5_000, 20_000, 1, 20
    out = args.out or os.path.join(HERE, "results", "forest-quality-quick.json" if args.quick else "forest-quality.json")
    info = run(args)
    os.makedirs(os.path.dirname(out), exist_ok=True)
    with open(out, "w") as f:
        json.dump(info, f, indent=1)
    shares, times = markdown(info)
    print(f"\nshare of achievable gain on the test set, median [min, max] over {args.reps} training seeds:\n\n{shares}")
    print(f"\nfit seconds, median over the seeds:\n\n{times}")
    print(f"\n{info['cpu_model']}, {info['logical_cpus']} cores, load {info['load_average_before']} → "
          f"{info['load_average_after']}; {info['wall_seconds']:.0f} s in all; wrote {os.path.relpath(out, ROOT)}")


if __name__ == "__main__":
    main()

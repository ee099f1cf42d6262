# Build glue: cargo builds libsparkpolicy, Maven packs it into the jar as a plain resource, tests run on top.
# `make demo` and `make test` are the two entry points in the README; both build everything first.
SHELL := /bin/bash
MVN ?= mvn -B -q
CARGO ?= cargo
JAR := jvm/target/spark-policy-toolkit-0.1.0-SNAPSHOT.jar
CLASSPATH_FILE := jvm/target/classpath.txt
DEMO_ARGS ?=
# Flags for the Spark bench harness, e.g. BENCH_ARGS="--rows 200000 --fit-rows 200000 --skip-fit true" for a quick run.
BENCH_ARGS ?=
JAVA_OPTS := -Xmx4g --add-opens=java.base/java.lang=ALL-UNNAMED --add-opens=java.base/java.lang.invoke=ALL-UNNAMED \
  --add-opens=java.base/java.lang.reflect=ALL-UNNAMED --add-opens=java.base/java.io=ALL-UNNAMED \
  --add-opens=java.base/java.net=ALL-UNNAMED --add-opens=java.base/java.nio=ALL-UNNAMED \
  --add-opens=java.base/java.util=ALL-UNNAMED --add-opens=java.base/java.util.concurrent=ALL-UNNAMED \
  --add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED --add-opens=java.base/sun.nio.ch=ALL-UNNAMED \
  --add-opens=java.base/sun.nio.cs=ALL-UNNAMED --add-opens=java.base/sun.security.action=ALL-UNNAMED \
  --add-opens=java.base/sun.util.calendar=ALL-UNNAMED -Djdk.reflect.useDirectMethodHandle=false \
  -Dio.netty.tryReflectionSetAccessible=true
export SPARK_LOCAL_IP := 127.0.0.1

.PHONY: native jar classpath test test-rust test-jvm test-python python-deps python-wheel python-params demo hillstrom bench bench-quality bench-search clean

native:
	$(CARGO) build --release -p sparkpolicy-jni

jar: native
	cd jvm && $(MVN) -DskipTests package

# Spark and the other provided jars, for running the demo and benches outside Maven.
classpath: jar
	cd jvm && $(MVN) dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile=target/classpath.txt

demo: classpath
	java $(JAVA_OPTS) -Dlog4j2.configurationFile=examples/log4j2.properties -cp $(JAR):$$(cat $(CLASSPATH_FILE)) org.sparkpolicy.examples.PlantedPolicyDemo $(DEMO_ARGS)

# The Hillstrom e-mail experiment end to end (docs/hillstrom.md): prints trees and values, writes docs/hillstrom-*.png.
HILLSTROM_ARGS ?=
hillstrom: classpath
	java $(JAVA_OPTS) -Djava.awt.headless=true -Dlog4j2.configurationFile=examples/log4j2.properties \
	  -cp $(JAR):$$(cat $(CLASSPATH_FILE)) org.sparkpolicy.examples.HillstromExample $(HILLSTROM_ARGS)

# Benchmarks, not tests: the criterion kernel micro-benchmark, then the Spark harness (~15 min in full).
# Both write their figures to benches/results/*.json; see docs/benchmarks.md.
bench: classpath
	$(CARGO) bench -p sparkpolicy-core --bench histogram
	java $(JAVA_OPTS) -Dlog4j2.configurationFile=examples/log4j2.properties \
	  -cp jvm/target/test-classes:$(JAR):$$(cat $(CLASSPATH_FILE)) org.sparkpolicy.bench.SparkBench $(BENCH_ARGS)

# Fit cost of exact thresholds and the two-level search (searchDepth 2) at scale: SearchBench.scala → benches/results/search.json
# (docs/benchmarks.md); not part of `make test`. ~40 min on 2 cores in full (its 10M-row scenario is most of it); a bigger
# heap than the other benches for that scenario. SEARCH_ARGS="--skip-c true" or smaller sizes write results/search-quick.json.
SEARCH_ARGS ?=
SEARCH_HEAP ?= 6g
bench-search: classpath
	java $(JAVA_OPTS) -Xmx$(SEARCH_HEAP) -Dlog4j2.configurationFile=examples/log4j2.properties \
	  -cp jvm/target/test-classes:$(JAR):$$(cat $(CLASSPATH_FILE)) org.sparkpolicy.bench.SearchBench $(SEARCH_ARGS)

# Fit speed against Spark MLlib (GitHub issue #12): FitBench.scala → benches/results/fit.json (docs/benchmarks.md); not part
# of `make test`. Toolkit PolicyTreeLearner (exact and binned thresholds) vs VectorAssembler + DecisionTreeRegressor, depth 4,
# maxBins 64, on the same Parquet file at 1M rows × F = 10, 50, 200; an AIPW fit at 1M × 50; one 10M × 100 fit and one
# 50,000 × 10,000 fit with their peak memory. Phase times, Parquet scans and records read per fit. Several hours in full on
# 2 cores (3-5 h extrapolated from smoke runs; F = 200, the 10M-row and the 10,000-column fits are most of it, the last
# took 14 min at 500 rows); FIT_HEAP is the driver (= local executor) heap, sized for the 10M-row and 10,000-column fits.
# Results are rewritten after every scenario ("complete": false until the end). Smaller sizes or a subset write
# results/fit-quick.json, e.g.
# FIT_ARGS="--rows 100000 --features 10,20 --reps 1 --scenarios mllib,aipw" or "--scenarios big,wide" to run only those.
FIT_ARGS ?=
FIT_HEAP ?= 12g
.PHONY: bench-fit
bench-fit: classpath
	java $(JAVA_OPTS) -Xmx$(FIT_HEAP) -Dlog4j2.configurationFile=examples/log4j2.properties \
	  -cp jvm/target/test-classes:$(JAR):$$(cat $(CLASSPATH_FILE)) org.sparkpolicy.bench.FitBench $(FIT_ARGS)

# The reference paper's forest workload (GitHub issue #13): ForestBench.scala → benches/results/forest.json
# (docs/benchmarks.md); not part of `make test`. A 50-tree depth-7 forest over 4 arms scoring 10M Parquet rows against
# Spark's read floor, a depth-3 tree and a JVM forest walk, plus the forest's fit on a 200k-row sample. ~20 min on
# 2 cores; FOREST_ARGS="--rows 1000000 --reps 1" writes results/forest-quick.json.
FOREST_ARGS ?=
.PHONY: bench-forest
bench-forest: classpath
	java $(JAVA_OPTS) -Xmx8g -Dlog4j2.configurationFile=examples/log4j2.properties \
	  -cp jvm/target/test-classes:$(JAR):$$(cat $(CLASSPATH_FILE)) org.sparkpolicy.bench.ForestBench $(FOREST_ARGS)

# Forest fit time against MLlib (GitHub issue #13): ForestFitBench.scala → benches/results/forest-fit.json
# (docs/benchmarks.md); not part of `make test`. PolicyForestLearner (3 arms, given rewards) vs VectorAssembler +
# RandomForestRegressor (label g1), 100 trees, depth 4, maxBins 32, subsamplingRate 0.5 without replacement,
# featureSubsetStrategy onethird, on the same Parquet file of 1M rows × 20 features, round-robin (warm-up + 3 rounds).
# Other sizes or rounds write results/forest-fit-quick.json, e.g. FOREST_FIT_ARGS="--rows 100000 --reps 1".
FOREST_FIT_ARGS ?=
.PHONY: bench-forest-fit
bench-forest-fit: classpath
	java $(JAVA_OPTS) -Xmx8g -Dlog4j2.configurationFile=examples/log4j2.properties \
	  -cp jvm/target/test-classes:$(JAR):$$(cat $(CLASSPATH_FILE)) org.sparkpolicy.bench.ForestFitBench $(FOREST_FIT_ARGS)

# Policy quality against EconML (benches/quality.py, docs/benchmarks.md): not part of `make test` (~15 min on 2 cores).
# Its own virtualenv: EconML 0.17.0 and the dependencies it resolved to on Python 3.11, pinned, plus the test
# venv's pyspark/numpy/pandas/pyarrow; then the wheel (bundling the jar). QUALITY_ARGS="--quick" for a smoke run.
BENCH_VENV ?= .venv-bench
BENCH_PY := $(BENCH_VENV)/bin/python
BENCH_DEPS := econml==0.17.0 scikit-learn==1.9.1 scipy==1.17.1 joblib==1.6.0 lightgbm==4.7.0 numba==0.68.1 \
  llvmlite==0.50.0 shap==0.51.0 sparse==0.19.3 statsmodels==0.15.0 threadpoolctl==3.8.0 \
  pyspark==4.1.0 numpy==2.4.6 pandas==2.3.3 pyarrow==22.0.0 setuptools==80.9.0
QUALITY_ARGS ?=

$(BENCH_PY):
	python3 -m venv $(BENCH_VENV)

# The bench virtualenv with its pinned tools and this build's wheel, for every Python benchmark.
.PHONY: bench-venv
bench-venv: python-wheel $(BENCH_PY)
	$(BENCH_PY) -m pip install -q $(BENCH_DEPS)
	$(BENCH_PY) -m pip install -q --force-reinstall --no-deps $(WHEEL_DIR)/sparkpolicy-*.whl

bench-quality: bench-venv
	$(BENCH_PY) benches/quality.py $(QUALITY_ARGS)

# Forest quality (GitHub issue #13, benches/forest_quality.py, docs/benchmarks.md): PolicyForestLearner vs
# PolicyTreeLearner vs EconML PolicyTree and PolicyForest on quality.py's DGPs → results/forest-quality.json; the
# bench-quality virtualenv. FOREST_QUALITY_ARGS="--quick" for a smoke run (results/forest-quality-quick.json).
FOREST_QUALITY_ARGS ?=
.PHONY: bench-forest-quality
bench-forest-quality: bench-venv
	$(BENCH_PY) benches/forest_quality.py $(FOREST_QUALITY_ARGS)

# Forest scoring against a lean PySpark peer (GitHub issue #13, benches/forest_peer.py, docs/benchmarks.md): the
# native forest vs a mapInArrow NumPy scorer of the same 50-tree depth-7 forest over 10M rows × 16 features, with
# Spark's read floor, in one PySpark session → results/forest-peer.json (~15 min on 2 cores); the bench-quality
# virtualenv. FOREST_PEER_ARGS="--rows 1000000 --reps 1" writes results/forest-peer-quick.json.
FOREST_PEER_ARGS ?=
.PHONY: bench-forest-peer
bench-forest-peer: bench-venv
	$(BENCH_PY) benches/forest_peer.py $(FOREST_PEER_ARGS)

# rustfmt and clippy (warnings are errors) first, so style drift fails as loudly as a broken test;
# skipped with a notice on a toolchain installed without those components.
test-rust:
	if $(CARGO) fmt --version >/dev/null 2>&1; then $(CARGO) fmt --all -- --check; else echo "NOTICE: rustfmt not installed; format check skipped"; fi
	if $(CARGO) clippy --version >/dev/null 2>&1; then $(CARGO) clippy --release -p sparkpolicy-core -p sparkpolicy-jni --all-targets -- -D warnings; \
	  else echo "NOTICE: clippy not installed; lint skipped"; fi
	$(CARGO) test --release -p sparkpolicy-core -p sparkpolicy-jni

test-jvm: native
	cd jvm && $(MVN) package

# PySpark package: a virtualenv with the pinned test tools, the wheel (bundling the jar), pytest and spark-submit.
# pyspark must stay equal to the pom's spark.version (tests/test_packaging.py checks it).
VENV ?= .venv-test
PY := $(VENV)/bin/python
# The Spark Connect client's dependencies (pyspark 4.1.0's `connect` extra), pinned to releases of its time
# (protobuf 6.x matches its generated code) for tests/test_connect.py.
PY_DEPS := pyspark==4.1.0 numpy==2.4.6 pytest==9.2.0 setuptools==80.9.0 \
  pandas==2.3.3 pyarrow==22.0.0 grpcio==1.76.0 grpcio-status==1.76.0 googleapis-common-protos==1.71.0 \
  protobuf==6.33.0 zstandard==0.25.0
WHEEL_DIR := python/dist

$(PY):
	python3 -m venv $(VENV)

# pip is a no-op when everything is installed already; any failure stops make.
python-deps: $(PY)
	$(PY) -m pip install -q $(PY_DEPS)

# Copies the jar into the package and builds the wheel; fails unless the jar is inside.
python-wheel: jar python-deps
	rm -rf python/sparkpolicy/jars $(WHEEL_DIR) python/build
	mkdir -p python/sparkpolicy/jars
	cp $(JAR) python/sparkpolicy/jars/
	$(PY) -m pip wheel -q --no-deps --no-build-isolation -w $(WHEEL_DIR) ./python
	$(PY) -m zipfile -l $(WHEEL_DIR)/sparkpolicy-*.whl | grep -F 'sparkpolicy/jars/$(notdir $(JAR))' \
	  || { echo "FATAL: $(notdir $(JAR)) is not in the wheel" >&2; exit 1; }

# Regenerates python/sparkpolicy/ml/_jvm_params.py (Param docs, defaults, types) from the jar's stages; run it after a
# Scala Param change and commit the result (tests/test_params.py fails until then).
python-params: jar python-deps
	cd python && $(CURDIR)/$(PY) tools/gen_params.py --jar $(CURDIR)/$(JAR)

# pytest exits 5 when it collects no test; make fails on that like on any other non-zero exit.
test-python: python-wheel
	$(PY) -m pip install -q --force-reinstall --no-deps $(WHEEL_DIR)/sparkpolicy-*.whl
	cd python && SPARKPOLICY_WHEEL=$$(ls $(CURDIR)/$(WHEEL_DIR)/sparkpolicy-*.whl) $(CURDIR)/$(VENV)/bin/pytest -v --ignore=tests/test_connect.py
# Its own process: pyspark refuses a remote session while a classic one is alive, and marks the process as Connect.
	cd python && $(CURDIR)/$(VENV)/bin/pytest -v tests/test_connect.py

test: test-rust test-jvm test-python

clean:
	$(CARGO) clean
	cd jvm && $(MVN) clean
	rm -rf python/build python/dist python/sparkpolicy/jars python/*.egg-info

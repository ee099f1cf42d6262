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

.PHONY: native jar classpath test test-rust test-jvm demo bench clean

native:
	$(CARGO) build --release -p sparkpolicy-jni

jar: native
	cd jvm && $(MVN) -DskipTests package

# Spark and the other provided jars, for running the demo and benches outside Maven.
classpath: jar
	cd jvm && $(MVN) dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile=target/classpath.txt

demo: classpath
	java $(JAVA_OPTS) -Dlog4j2.configurationFile=examples/log4j2.properties -cp $(JAR):$$(cat $(CLASSPATH_FILE)) org.sparkpolicy.examples.PlantedPolicyDemo $(DEMO_ARGS)

# Benchmarks, not tests: the criterion kernel micro-benchmark, then the Spark harness (~15 min in full).
# Both write their figures to benches/results/*.json; see docs/benchmarks.md.
bench: classpath
	$(CARGO) bench -p sparkpolicy-core --bench histogram
	java $(JAVA_OPTS) -Dlog4j2.configurationFile=examples/log4j2.properties \
	  -cp jvm/target/test-classes:$(JAR):$$(cat $(CLASSPATH_FILE)) org.sparkpolicy.bench.SparkBench $(BENCH_ARGS)

test-rust:
	$(CARGO) test --release -p sparkpolicy-core -p sparkpolicy-jni

test-jvm: native
	cd jvm && $(MVN) package

test: test-rust test-jvm

clean:
	$(CARGO) clean
	cd jvm && $(MVN) clean

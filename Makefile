# Build glue: cargo builds libsparkpolicy, Maven packs it into the jar, tests run on top.
SHELL := /bin/bash
MVN ?= mvn -B -q
CARGO ?= cargo
NATIVE_LIB := target/release/libsparkpolicy.so
JAR := jvm/target/spark-policy-toolkit-0.1.0-SNAPSHOT.jar

.PHONY: native jar test test-rust test-jvm demo bench clean

native:
	$(CARGO) build --release -p sparkpolicy-jni

jar: native
	cd jvm && $(MVN) -DskipTests package

test-rust:
	$(CARGO) test --release -p sparkpolicy-core -p sparkpolicy-jni

test-jvm: native
	cd jvm && $(MVN) package

test: test-rust test-jvm

clean:
	$(CARGO) clean
	cd jvm && $(MVN) clean

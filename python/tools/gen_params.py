"""Writes sparkpolicy/ml/_jvm_params.py: every Param of every org.sparkpolicy.ml stage, read from the JVM.

    make python-params                                    # from the repo root
    python tools/gen_params.py --jar JAR [--out FILE]     # what it runs, from python/

Starts a local SparkSession (loopback only, no UI) with the jar, instantiates each stage through py4j and
records each Param's name, doc, default, pyspark type converter and whether the Scala class has a setter.
tests/test_params.py regenerates the text from its session and fails when the committed file differs.
"""
import argparse
import os
import sys

STAGES = ["PolicyTreeLearner", "PolicyTreeModel", "DoublyRobustScores", "PolicyValueEvaluator", "QiniEvaluator"]

# Spark's typed Param classes, and for a plain Param[T] the Java type of its getter or setter.
_PARAM_CLASSES = {"IntParam": "toInt", "LongParam": "toInt", "FloatParam": "toFloat", "DoubleParam": "toFloat",
                  "BooleanParam": "toBoolean", "StringArrayParam": "toListString", "DoubleArrayParam": "toListFloat",
                  "IntArrayParam": "toListInt", "DoubleArrayArrayParam": "toListListFloat"}
_JAVA_TYPES = {"java.lang.String": "toString", "int": "toInt", "long": "toInt", "double": "toFloat",
               "boolean": "toBoolean", "[Ljava.lang.String;": "toListString", "[D": "toListFloat",
               "[[D": "toListListFloat"}

HEADER = '''"""The Params of the org.sparkpolicy.ml stages as the JVM defines them: GENERATED, do not edit.

Regenerate after a Scala Param change with `make python-params` (python/tools/gen_params.py); tests/test_params.py
fails while this file differs from the jar. stage -> param -> doc, pyspark TypeConverters name, whether the Scala
class has a setter, and the default ("default" is absent when the JVM has none).
"""
'''


def _accessor(prefix, name):
    return prefix + name[0].upper() + name[1:]


def _converter(param, methods):
    kind = param.getClass().getSimpleName()
    if kind in _PARAM_CLASSES:
        return _PARAM_CLASSES[kind]
    # A plain Param[T] is erased; the accessors say T (setCategoryOrders has a String and a Map overload).
    types = {m.getReturnType().getName() for m in methods.get(_accessor("get", param.name()), []) if not m.getParameterTypes()}
    types |= {m.getParameterTypes()[0].getName() for m in methods.get(_accessor("set", param.name()), [])
              if len(m.getParameterTypes()) == 1}
    known = sorted({_JAVA_TYPES[t] for t in types if t in _JAVA_TYPES})
    if "java.lang.String" in types:
        return "toString"
    if len(known) == 1:
        return known[0]
    raise ValueError(f"cannot tell the type of {param.name()} ({kind}, accessor types {sorted(types)}); extend gen_params.py")


def _python_value(value):
    if hasattr(value, "__len__") and not isinstance(value, str):  # a py4j JavaArray
        return [_python_value(v) for v in value]
    return value


def read_jvm_params(spark):
    """{stage: {param: {"doc", "converter", "setter"[, "default"]}}} from the stages' JVM classes."""
    package = spark.sparkContext._jvm.org.sparkpolicy.ml
    table = {}
    for stage in STAGES:
        obj = getattr(package, stage)()  # PolicyTreeModel's no-arg constructor is public in bytecode (for Connect)
        methods = {}
        for m in obj.getClass().getMethods():
            methods.setdefault(m.getName(), []).append(m)
        params = {}
        for p in obj.params():
            spec = {"doc": p.doc(), "converter": _converter(p, methods), "setter": _accessor("set", p.name()) in methods}
            default = obj.getDefault(p)
            if default.isDefined():
                spec["default"] = _python_value(default.get())
            params[p.name()] = spec
        table[stage] = params
    return table


def render(table):
    """The module text: one line per param, sorted, so a Scala change is a one-line diff."""
    lines = [HEADER, "JVM_PARAMS = {"]
    for stage in sorted(table):
        lines.append(f"    {stage!r}: {{")
        for name in sorted(table[stage]):
            spec = table[stage][name]
            fields = ", ".join(f"{k!r}: {spec[k]!r}" for k in ("doc", "converter", "setter", "default") if k in spec)
            lines.append(f"        {name!r}: {{{fields}}},")
        lines.append("    },")
    lines.append("}")
    return "\n".join(lines) + "\n"


def local_session(jar):
    import pyspark
    from pyspark.sql import SparkSession

    os.environ["SPARK_HOME"] = os.path.dirname(os.path.abspath(pyspark.__file__))
    os.environ["SPARK_LOCAL_IP"] = "127.0.0.1"
    return (SparkSession.builder.master("local[1]").appName("sparkpolicy-gen-params")
            .config("spark.jars", jar)
            .config("spark.driver.host", "127.0.0.1")
            .config("spark.driver.bindAddress", "127.0.0.1")
            .config("spark.ui.enabled", "false")
            .getOrCreate())


def main(argv=None):
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jar", required=True, help="the toolkit jar (jvm/target/spark-policy-toolkit-*.jar)")
    parser.add_argument("--out", default=os.path.join(here, "..", "sparkpolicy", "ml", "_jvm_params.py"))
    args = parser.parse_args(argv)
    spark = local_session(os.path.abspath(args.jar))
    try:
        text = render(read_jvm_params(spark))
    finally:
        spark.stop()
    with open(args.out, "w", encoding="utf-8") as f:
        f.write(text)
    print(f"wrote {os.path.normpath(args.out)}", file=sys.stderr)


if __name__ == "__main__":
    main()

"""Writes sparkpolicy/ml/_jvm_params.py: every Param of every org.sparkpolicy.ml stage, read from the JVM.

    make python-params                                    # from the repo root
    python tools/gen_params.py --jar JAR [--out FILE]     # what it runs, from python/

Starts a local SparkSession (loopback only, no UI) with the jar, instantiates each stage through py4j and
records each Param's name, doc, default, pyspark type converter and declaring Scala trait, and the setters
of each Scala class.
tests/test_params.py regenerates the text from its session and fails when the committed file differs.
"""
import argparse
import os
import sys

PACKAGE = "org.sparkpolicy.ml"
STAGES = ["PolicyTreeLearner", "PolicyTreeModel", "PolicyForestLearner", "PolicyForestModel", "DoublyRobustScores",
          "PolicyValueEvaluator", "QiniEvaluator"]

# Spark's typed Param classes, and for a plain Param[T] the Java type of its getter or setter.
_PARAM_CLASSES = {"IntParam": "toInt", "LongParam": "toInt", "FloatParam": "toFloat", "DoubleParam": "toFloat",
                  "BooleanParam": "toBoolean", "StringArrayParam": "toListString", "DoubleArrayParam": "toListFloat",
                  "IntArrayParam": "toListInt", "DoubleArrayArrayParam": "toListListFloat"}
_JAVA_TYPES = {"java.lang.String": "toString", "int": "toInt", "long": "toInt", "double": "toFloat",
               "boolean": "toBoolean", "[Ljava.lang.String;": "toListString", "[D": "toListFloat",
               "[[D": "toListListFloat"}

HEADER = '''"""The Params of the org.sparkpolicy.ml stages as the JVM defines them: GENERATED, do not edit.

Regenerate after a Scala Param change with `make python-params` (python/tools/gen_params.py); tests/test_params.py
fails while this file differs from the jar. A Param: its doc, pyspark TypeConverters name and default ("default"
is absent when the JVM has none).
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


def _traits(java_class):
    """The org.sparkpolicy.ml traits (Java interfaces) a stage class mixes in, with their Param accessors."""
    found = {}
    for i in java_class.getInterfaces():
        if i.getName().startswith(PACKAGE + "."):
            found[i.getSimpleName()] = {m.getName() for m in i.getDeclaredMethods() if not m.getParameterTypes()}
        found.update(_traits(i))
    return found


def read_jvm_params(spark):
    """(traits, stages) from the stages' JVM classes: traits = {trait: {param: spec}}, the Params a Scala trait
    declares; stages = {stage: {"traits", "setters", "params"}}, "params" holding those its class declares
    itself or that differ from its trait's (spec: "doc", "converter"[, "default"])."""
    package = spark.sparkContext._jvm.org.sparkpolicy.ml
    traits, stages = {}, {}
    for stage in STAGES:
        obj = getattr(package, stage)()  # the models' no-arg constructors are public in bytecode (for Connect)
        methods = {}
        for m in obj.getClass().getMethods():
            methods.setdefault(m.getName(), []).append(m)
        mixed_in = _traits(obj.getClass())
        entry = {"traits": sorted(t for t, accessors in mixed_in.items() if accessors & {p.name() for p in obj.params()}),
                 "setters": [], "params": {}}
        for p in obj.params():
            spec = {"doc": p.doc(), "converter": _converter(p, methods)}
            default = obj.getDefault(p)
            if default.isDefined():
                spec["default"] = _python_value(default.get())
            owner = next((t for t in entry["traits"] if p.name() in mixed_in[t]), None)
            if owner is not None and traits.setdefault(owner, {}).setdefault(p.name(), spec) == spec:
                pass  # as the trait declares it
            else:
                entry["params"][p.name()] = spec
            if _accessor("set", p.name()) in methods:
                entry["setters"].append(p.name())
        stages[stage] = entry
    return traits, stages


def _render_specs(lines, specs, indent):
    for name in sorted(specs):
        spec = specs[name]
        fields = ", ".join(f"{k!r}: {spec[k]!r}" for k in ("doc", "converter", "default") if k in spec)
        lines.append(f"{indent}{name!r}: {{{fields}}},")


def render(jvm):
    """The module text: one line per Param, sorted, so a Scala change is a one-line diff."""
    traits, stages = jvm
    lines = [HEADER, "# The Params each Scala trait declares (as every stage mixing it in has them).", "TRAITS = {"]
    for trait in sorted(traits):
        lines.append(f"    {trait!r}: {{")
        _render_specs(lines, traits[trait], " " * 8)
        lines.append("    },")
    lines += ["}", "", "# Each stage: the traits it mixes in, its Scala setters, and the Params its class declares itself.",
              "STAGES = {"]
    for stage in sorted(stages):
        entry = stages[stage]
        lines += [f"    {stage!r}: {{", f"        'traits': {entry['traits']!r},",
                  f"        'setters': {sorted(entry['setters'])!r},"]
        if entry["params"]:
            lines.append("        'params': {")
            _render_specs(lines, entry["params"], " " * 12)
            lines.append("        },")
        else:
            lines.append("        'params': {},")
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

"""Spark Policy Toolkit for PySpark: learn and score interpretable policy trees.

The Scala/Rust implementation ships as a jar inside this package; put it on Spark's classpath::

    import sparkpolicy
    spark = SparkSession.builder.config("spark.jars", sparkpolicy.jar_path()).getOrCreate()

and use :class:`sparkpolicy.ml.PolicyTreeLearner`.
"""
import glob
import os

__version__ = "0.1.0.dev0"

__all__ = ["jar_path", "__version__"]


def jar_path() -> str:
    """Absolute path of the bundled jar (Scala classes plus the linux-x86_64 native library),
    for ``spark.jars`` or ``spark-submit --jars``."""
    folder = os.path.join(os.path.dirname(os.path.abspath(__file__)), "jars")
    jars = sorted(glob.glob(os.path.join(folder, "spark-policy-toolkit-*.jar")))
    if len(jars) != 1:
        raise FileNotFoundError(
            f"expected exactly one spark-policy-toolkit jar in {folder}, found {len(jars)}; "
            "install the wheel built by `make python-wheel`, which bundles the jar")
    return jars[0]

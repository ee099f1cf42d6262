"""The installed package and the wheel: the jar is inside, and the versions agree with the pom."""
import os
import re
import zipfile

import pyspark
import pytest

import sparkpolicy

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def pom_property(name):
    with open(os.path.join(REPO, "jvm", "pom.xml"), encoding="utf-8") as f:
        return re.search(rf"<{name}>([^<]+)</{name}>", f.read()).group(1)


def test_pyspark_is_the_poms_spark_version():
    assert pyspark.__version__ == pom_property("spark.version")


def test_jar_path_points_at_the_bundled_jar():
    jar = sparkpolicy.jar_path()
    assert os.path.isfile(jar) and jar.startswith(os.path.dirname(sparkpolicy.__file__))
    with zipfile.ZipFile(jar) as z:
        names = set(z.namelist())
    assert "linux-x86_64/libsparkpolicy.so" in names
    assert {"org/sparkpolicy/ml/PolicyTreeLearner.class", "org/sparkpolicy/ml/PolicyForestLearner.class"} <= names
    pom_version = re.search(r"<artifactId>spark-policy-toolkit</artifactId>\s*<version>([^<]+)</version>",
                            open(os.path.join(REPO, "jvm", "pom.xml"), encoding="utf-8").read()).group(1)
    assert os.path.basename(jar) == f"spark-policy-toolkit-{pom_version}.jar"
    assert sparkpolicy.__version__ == pom_version.replace("-SNAPSHOT", ".dev0")


@pytest.mark.skipif("SPARKPOLICY_WHEEL" not in os.environ, reason="set by `make test-python` to the wheel it built")
def test_wheel_bundles_the_jar_and_is_what_is_installed():
    wheel = os.environ["SPARKPOLICY_WHEEL"]
    with zipfile.ZipFile(wheel) as z:
        names = set(z.namelist())
        jar_name = "sparkpolicy/jars/" + os.path.basename(sparkpolicy.jar_path())
        modules = {f"sparkpolicy/ml/{m}.py" for m in ["__init__", "_connect", "_jvm_params", "_reader", "evaluation", "forest",
                                                     "params", "rewards", "splits", "tree"]}
        assert {"sparkpolicy/__init__.py", "org/sparkpolicy/ml.py", jar_name} | modules <= names
        assert "org/__init__.py" not in names  # namespace package: no claim on `org`
        bundled = z.read(jar_name)
    with open(sparkpolicy.jar_path(), "rb") as f:
        assert f.read() == bundled
    with open(os.path.join(REPO, "jvm", "target", os.path.basename(sparkpolicy.jar_path())), "rb") as f:
        assert f.read() == bundled, "the wheel's jar is not the one `make jar` built"
    # The tests import the installed wheel, not the source tree.
    assert "site-packages" in sparkpolicy.__file__

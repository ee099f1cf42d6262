"""PySpark wrappers of ``org.sparkpolicy.ml``: :class:`PolicyTreeLearner` and :class:`PolicyTreeModel`,
:class:`PolicyForestLearner` and :class:`PolicyForestModel`,
:class:`DoublyRobustScores`, :class:`PolicyValueEvaluator` and :class:`QiniEvaluator`, and hash splits.

The modules mirror the Scala package: :mod:`.tree` (learner, model, :func:`saved_model_info`), :mod:`.forest`,
:mod:`.rewards`, :mod:`.evaluation`, :mod:`.splits` (:func:`train_test_split`, :func:`with_fold_column`)
and :mod:`.params` (the Params mixins, one per Scala trait). Names, defaults and Param docs are the Scala ones: they are
generated from the JVM into :mod:`._jvm_params` (``make python-params``; ``tests/test_params.py`` compares
them with the jar). The jar must be on Spark's classpath (``spark.jars`` = :func:`sparkpolicy.jar_path`).

Under Spark Connect (``SparkSession.builder.remote(...)``, jar on the server's classpath) fit, transform,
evaluate, save/load, ``depth``, ``numNodes`` and the forest's ``numTreesFitted`` work; the other model attributes raise
:class:`ConnectUnsupportedError` (see docs/quickstart.md, "Spark Connect").
"""
from ._connect import ConnectUnsupportedError, _not_over_connect  # noqa: F401
from ._reader import _JAVA_PACKAGE, _Reader, _reader  # noqa: F401
from .evaluation import PolicyValueEvaluator, QiniEvaluator
from .forest import PolicyForestLearner, PolicyForestModel
from .params import _category_orders_json  # noqa: F401
from .rewards import DoublyRobustScores
from .splits import _hash_unit, _seq, train_test_split, with_fold_column  # noqa: F401
from .tree import PolicyTreeLearner, PolicyTreeModel, saved_model_info

__all__ = ["PolicyTreeLearner", "PolicyTreeModel", "PolicyForestLearner", "PolicyForestModel", "PolicyValueEvaluator",
           "QiniEvaluator", "DoublyRobustScores", "ConnectUnsupportedError", "saved_model_info", "train_test_split", "with_fold_column"]

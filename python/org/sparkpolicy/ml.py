"""Alias of :mod:`sparkpolicy.ml` under the Scala package name.

pyspark maps a loaded Java stage to its Python class by the Java class name
(``JavaParams._from_java`` imports ``org.sparkpolicy.ml`` for ``org.sparkpolicy.ml.PolicyTreeModel``),
so ``PolicyTreeModel.load`` and ``PipelineModel.load`` need this module. ``org`` and ``org.sparkpolicy``
are namespace packages (no ``__init__.py``), so they do not claim the names for other distributions.
"""
from sparkpolicy.ml import (  # noqa: F401
    DoublyRobustScores,
    PolicyForestLearner,
    PolicyForestModel,
    PolicyTreeLearner,
    PolicyTreeModel,
    PolicyValueEvaluator,
    QiniEvaluator,
)

__all__ = ["DoublyRobustScores", "PolicyForestLearner", "PolicyForestModel", "PolicyTreeLearner", "PolicyTreeModel",
           "PolicyValueEvaluator", "QiniEvaluator"]

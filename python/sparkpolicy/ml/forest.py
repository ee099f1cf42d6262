"""The policy forest (Scala: ``org.sparkpolicy.ml.PolicyForestLearner`` and ``PolicyForestModel``)."""
import re
from typing import Dict, List

from pyspark import keyword_only
from pyspark.ml.linalg import Vector
from pyspark.ml.util import JavaMLWritable
from pyspark.ml.wrapper import JavaEstimator, JavaModel
from pyspark.sql import DataFrame
from pyspark.sql.utils import is_remote

from ._connect import _not_over_connect
from ._reader import _JAVA_PACKAGE, _JvmReadable
from .params import (_HasAipwSettings, _HasBinning, _HasCategoricalFeatures, _HasForestSettings, _HasNativeResources,
                     _HasPolicyFeatures, _HasRewardInputs, _HasScoringBatch, _HasTreeGrowth)
from .tree import PolicyTreeModel, _no_outcome_model


class PolicyForestLearner(JavaEstimator, _HasPolicyFeatures, _HasCategoricalFeatures, _HasRewardInputs, _HasAipwSettings,
                          _HasTreeGrowth, _HasBinning, _HasNativeResources, _HasForestSettings, _HasScoringBatch,
                          JavaMLWritable, _JvmReadable, stage="PolicyForestLearner"):
    """
    Learns a policy forest (as EconML's ``PolicyForest``): ``numTrees`` policy trees, each grown greedily with
    the tree learner's criterion on a ``subsamplingRate`` share of the rows and, per node, a
    ``featureSubsetStrategy`` share of the features, honest by default. Every random choice is a hash of the
    row's content (or ``rowIdCol``), the tree and ``seed``, so the forest is the same in any layout. Thresholds
    are exact as a tree's by default (``thresholdSearch="exact"``: each level is searched on a coarse ``maxBins``
    grid, and the coarse bins that can hold a better split, up to ``refineBins`` a node, are refined at full
    resolution for every tree in one more pass, on each tree's own rows);
    ``thresholdSearch="binned"`` searches only the ``maxBins`` quantile thresholds. Trees grow greedily
    (``searchDepth=1``). Wraps ``org.sparkpolicy.ml.PolicyForestLearner``.

    >>> learner = PolicyForestLearner(featureCols=["recency", "history"], treatmentCol="segment",
    ...                               outcomeCol="spend", numTrees=50, maxDepth=3)   # AIPW rewards
    >>> forest = learner.fit(train)                                                   # doctest: +SKIP
    """

    # The keyword defaults are the JVM's (tests/test_params.py checks them against _jvm_params).
    @keyword_only
    def __init__(self, *, featureCols=None, treatmentCol=None, rewardCols=None, outcomeCol=None,
                 propensityCol=None, rewardType=None, treatmentVocabulary=None, maxDepth=3, minNodeSize=1,
                 maxBins=64, maxMemoryMB=256, boundarySampleSize=50000, boundaryStrategy="exact",
                 rowIdCol=None, boundaries=None, nativeThreads=0, scoringBatchSize=4096, crossFitFolds=5,
                 propensityFloor=0.01, propensityModel="shares", outcomeMaxDepth=4, outcomeMinNodeSize=20,
                 handleInvalid="error", categoricalCols=None, categoryOrders="{}", thresholdSearch="exact",
                 searchDepth=1, refineBins=2, numTrees=100, subsamplingRate=0.5, featureSubsetStrategy="all", honest=True,
                 seed=42):
        super().__init__()
        self._java_obj = self._new_java_obj(f"{_JAVA_PACKAGE}.PolicyForestLearner", self.uid)
        self.setParams(**self._input_kwargs)

    @keyword_only
    def setParams(self, *, featureCols=None, treatmentCol=None, rewardCols=None, outcomeCol=None,
                  propensityCol=None, rewardType=None, treatmentVocabulary=None, maxDepth=3, minNodeSize=1,
                  maxBins=64, maxMemoryMB=256, boundarySampleSize=50000, boundaryStrategy="exact",
                  rowIdCol=None, boundaries=None, nativeThreads=0, scoringBatchSize=4096, crossFitFolds=5,
                  propensityFloor=0.01, propensityModel="shares", outcomeMaxDepth=4, outcomeMinNodeSize=20,
                  handleInvalid="error", categoricalCols=None, categoryOrders="{}", thresholdSearch="exact",
                  searchDepth=1, refineBins=2, numTrees=100, subsamplingRate=0.5, featureSubsetStrategy="all", honest=True,
                  seed=42) -> "PolicyForestLearner":
        """Sets the params given as keywords (the others keep their values)."""
        return self._set(**self._input_kwargs)

    def _create_model(self, java_model) -> "PolicyForestModel":
        return PolicyForestModel(java_model)

    def _transfer_params_to_java(self):
        super()._transfer_params_to_java()
        self._transfer_outcome_model()  # so fit and save both see it

    def getTreatmentVocabulary(self) -> List[str]:
        """Gets the value of :py:attr:`treatmentVocabulary` (the model's method returns the resolved arms)."""
        return self.getOrDefault(self.treatmentVocabulary)

    def setBoundaries(self, value: List[List[float]]) -> "PolicyForestLearner":
        """Locks the split boundaries (one strictly increasing list per feature, featureCols order)."""
        return self._set(boundaries=value)



class PolicyForestModel(JavaModel, _HasPolicyFeatures, _HasRewardInputs, _HasAipwSettings, _HasTreeGrowth, _HasBinning,
                        _HasNativeResources, _HasForestSettings, _HasScoringBatch, JavaMLWritable, _JvmReadable,
                        stage="PolicyForestModel"):
    """
    A learned policy forest. ``transform`` appends ``policy_action`` (arm label), ``policy_action_index``,
    ``policy_scores`` (per arm, the mean over the trees of their leaf's mean Γ, vocabulary order) and
    ``policy_leaves`` (each tree's leaf heap id, tree order); the action is the first arm with the largest
    score. Scores natively in Arrow batches. Wraps ``org.sparkpolicy.ml.PolicyForestModel``.
    """

    @property
    def numTreesFitted(self) -> int:
        """Number of trees in the fitted forest (the ``numTrees`` attribute is the Param)."""
        if is_remote():
            # Over Connect only toString reaches the model: "PolicyForestModel: uid=..., numTrees=N, arms=K".
            text = self._call_java("toString")
            found = re.search(r"\bnumTrees=(\d+)", text)
            if found is None:
                raise RuntimeError(f"cannot read numTrees from the model's toString: {text!r}")
            return int(found.group(1))
        return self._call_java("getNumTreesFitted")

    def getNumTreesFitted(self) -> int:
        """Number of trees in the fitted forest, as Scala's ``getNumTreesFitted`` (same as :py:attr:`numTreesFitted`)."""
        return self.numTreesFitted

    @property
    def trees(self) -> List[PolicyTreeModel]:
        """The member trees as :class:`PolicyTreeModel` (each scores as a tree alone), in tree order. They share the
        forest's contract and input signature; a member has no training output signature (``signatures["output"]``
        is empty)."""
        _not_over_connect("trees", "save the forest and inspect it from a classic session (PolicyForestModel.load(path).trees)")
        members = []
        for java_tree in self._java_obj.trees():
            tree = PolicyTreeModel(java_tree)
            tree._transfer_params_from_java()
            members.append(tree)
        return members

    @property
    def featureImportances(self) -> Vector:
        """As MLlib's forests: each tree's summed split gains per feature, normalised to sum 1 per tree, summed over
        the trees and normalised again (all zeros when no tree splits); ``featureCols`` order."""
        _not_over_connect("featureImportances", "compute it from a classic session or Scala")
        return self._call_java("featureImportances")

    @property
    def featureSubsetSize(self) -> int:
        """The features each node could split on, as resolved from ``featureSubsetStrategy`` for the training data."""
        _not_over_connect("featureSubsetSize", "read it from a classic session or Scala")
        return self._call_java("featureSubsetSize")

    def getTreatmentVocabulary(self) -> List[str]:
        """The resolved arm labels, in the order of ``policy_scores`` and ``policy_action_index``."""
        _not_over_connect("getTreatmentVocabulary", "set treatmentVocabulary on the learner to fix the arm order, "
                          "or read 'vocabulary' from saved_model_info(spark, path) after model.save(path)")
        return list(self._java_obj.getTreatmentVocabulary())

    @property
    def splitBoundaries(self) -> List[List[float]]:
        """Split boundaries per feature, in ``featureCols`` order (the locked or computed ones), shared by every tree."""
        _not_over_connect("splitBoundaries", "read 'boundaries' from saved_model_info(spark, path) after model.save(path)")
        return [list(b) for b in self._java_obj.splitBoundaries()]

    @property
    def unseenCategoryCount(self) -> int:
        """Categorical values unseen in training that the latest ``transform`` scored as missing (as the tree's)."""
        _not_over_connect("unseenCategoryCount", "unseen labels are scored as missing; count them with SQL")
        return self._call_java("unseenCategoryCount")

    @property
    def toDebugString(self) -> str:
        """The model summary line, then every tree, one node per line."""
        _not_over_connect("toDebugString", "numTreesFitted works; print the forest from a classic session "
                          "(PolicyForestModel.load(path).toDebugString)")
        return self._call_java("toDebugString")

    @property
    def signatures(self) -> Dict[str, str]:
        """The six SHA-256 signatures: ``manifest``, ``boundaries``, ``model`` (every tree's content hash),
        ``decisions`` (every tree's log), and ``input`` and ``output`` of the training data."""
        _not_over_connect("signatures", "read 'signatures' from saved_model_info(spark, path) after model.save(path)")
        return dict(self._java_obj.signatures())

    def inputSignature(self, df: DataFrame) -> str:
        """Order-independent signature of ``df``'s contract columns (features and the reward's source columns)."""
        _not_over_connect("inputSignature", "compute it from a classic session or Scala")
        return self._call_java("inputSignature", df)

    def outputSignature(self, df: DataFrame) -> str:
        """Scores ``df`` natively and signs (row key, action, score bits), order-independently."""
        _not_over_connect("outputSignature", "compute it from a classic session or Scala")
        return self._call_java("outputSignature", df)

    def outputSignatureOfScored(self, scored: DataFrame) -> str:
        """The output signature of a DataFrame scored by any backend (e.g. :meth:`transformWithSql`)."""
        _not_over_connect("outputSignatureOfScored", "compute it from a classic session or Scala")
        return self._call_java("outputSignatureOfScored", scored)

    @property
    def bestArmOnTraining(self) -> str:
        """The best constant arm over every training row (the baseline a policy must beat)."""
        _not_over_connect("bestArmOnTraining", "read it from a classic session or Scala")
        return self._call_java("bestArmOnTraining")

    def toSqlExpression(self) -> str:
        """The forest as one Spark SQL expression yielding
        struct(policy_action, policy_action_index, policy_scores, policy_leaves); at most 20,000 nodes."""
        _not_over_connect("toSqlExpression", "export it once from a classic session or Scala and apply it with "
                          "F.expr(sql) (see docs/quickstart.md)")
        return self._call_java("toSqlExpression")

    def transformWithSql(self, df: DataFrame) -> DataFrame:
        """``transform`` through the pure-SQL backend: same columns, bit-identical values, no native code."""
        _not_over_connect("transformWithSql", "use transform(df), or apply an exported toSqlExpression() with F.expr")
        return DataFrame(self._java_obj.transformWithSql(df._jdf), df.sparkSession)

    def setOutcomeModel(self, regressor):
        """Not available on a fitted forest (set it on :class:`PolicyForestLearner`); raises NotImplementedError."""
        _no_outcome_model("PolicyForestModel", "PolicyForestLearner")

"""PySpark wrappers of ``org.sparkpolicy.ml``: :class:`PolicyTreeLearner` and :class:`PolicyTreeModel`.

Names, defaults and Param docs are the Scala ones (``tests/test_params.py`` compares them through py4j).
The jar must be on Spark's classpath (``spark.jars`` = :func:`sparkpolicy.jar_path`).

Under Spark Connect (``SparkSession.builder.remote(...)``, jar on the server's classpath) fit, transform,
evaluate, save/load, ``depth`` and ``numNodes`` work; the other model attributes raise
:class:`ConnectUnsupportedError` (see docs/quickstart.md, "Spark Connect").
"""
import re
from typing import Dict, List

from pyspark import keyword_only
from pyspark.ml.param import Param, Params, TypeConverters
from pyspark.ml.util import JavaMLReadable, JavaMLReader, JavaMLWritable
from pyspark.ml.evaluation import JavaEvaluator
from pyspark.ml.wrapper import JavaEstimator, JavaModel, JavaTransformer
from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql.utils import is_remote

__all__ = ["PolicyTreeLearner", "PolicyTreeModel", "PolicyValueEvaluator", "QiniEvaluator", "DoublyRobustScores", "ConnectUnsupportedError",
           "saved_model_info", "train_test_split", "with_fold_column"]

_JAVA_PACKAGE = "org.sparkpolicy.ml"


class ConnectUnsupportedError(NotImplementedError):
    """A call that Spark Connect cannot make: the server only invokes model methods on its allow-list of
    Spark's own classes (``toString`` is the one our models get), and a Connect client has no JVM."""


def _not_over_connect(what: str, instead: str) -> None:
    if is_remote():
        raise ConnectUnsupportedError(
            f"{what} is not available over Spark Connect (Spark 4.1 invokes only allow-listed methods of its own "
            f"ML classes on the server); {instead}")


def _reader(cls):
    if is_remote():
        from pyspark.ml.connect.readwrite import RemoteMLReader

        # pyspark names the JVM class after the Python module ("pyspark." -> "org.apache.spark."); a stand-in
        # whose module is org.sparkpolicy.ml (the alias package) makes it ask the server for our class, and
        # the instance it then builds is the real class, imported from that alias module.
        return RemoteMLReader(type(cls)(cls.__name__, (cls,), {"__module__": _JAVA_PACKAGE}))
    return _Reader(cls)


class _PolicyTreeParams(Params):
    """The Params shared by the learner and the model (Scala: HasPolicyFeatures, HasRewardInputs,
    HasTreeGrowth, HasScoringBatch)."""

    featureCols: "Param[List[str]]" = Param(
        Params._dummy(), "featureCols",
        "numeric, boolean or string (categorical) feature columns, in contract order (the order is part of the semantic contract)",
        typeConverter=TypeConverters.toListString)
    treatmentCol: "Param[str]" = Param(
        Params._dummy(), "treatmentCol",
        "column of arm labels (string or integer); optional when rewardCols is set",
        typeConverter=TypeConverters.toString)
    rewardCols: "Param[List[str]]" = Param(
        Params._dummy(), "rewardCols",
        "one reward (Γ) column per arm, in vocabulary order; without treatmentCol the arms are named after these columns",
        typeConverter=TypeConverters.toListString)
    outcomeCol: "Param[str]" = Param(
        Params._dummy(), "outcomeCol", "observed outcome Y, for AIPW or IPW rewards",
        typeConverter=TypeConverters.toString)
    propensityCol: "Param[str]" = Param(
        Params._dummy(), "propensityCol",
        "probability of the arm each row received; when unset, the arm's share in the data (or, for AIPW, see propensityModel)",
        typeConverter=TypeConverters.toString)
    rewardType: "Param[str]" = Param(
        Params._dummy(), "rewardType",
        "how Γ is built: 'given' (rewardCols), 'ipw' (Γ(a) = 1{W=a}·Y/e) or 'aipw' (Γ(a) = μ̂_a(X) + 1{W=a}·(Y − μ̂_a(X))/e, "
        "cross-fitted); default 'given' when rewardCols is set, else 'aipw'",
        typeConverter=TypeConverters.toString)
    treatmentVocabulary: "Param[List[str]]" = Param(
        Params._dummy(), "treatmentVocabulary",
        "fixed arm order; default: integer labels sorted numerically, string labels by UTF-8 bytes",
        typeConverter=TypeConverters.toListString)
    maxDepth: "Param[int]" = Param(
        Params._dummy(), "maxDepth", "maximum depth of the tree (1 to 12)",
        typeConverter=TypeConverters.toInt)
    minNodeSize: "Param[int]" = Param(
        Params._dummy(), "minNodeSize",
        "minimum number of rows in each child of a split (policytree's min.node.size)",
        typeConverter=TypeConverters.toInt)
    maxBins: "Param[int]" = Param(
        Params._dummy(), "maxBins",
        "maximum value bins per feature (2 to 65,535), plus one code reserved for missing values",
        typeConverter=TypeConverters.toInt)
    maxMemoryMB: "Param[int]" = Param(
        Params._dummy(), "maxMemoryMB",
        "per-task native histogram budget in MiB; frontier nodes and feature blocks are grouped to fit",
        typeConverter=TypeConverters.toInt)
    boundarySampleSize: "Param[int]" = Param(
        Params._dummy(), "boundarySampleSize",
        "rows sampled (by content hash) to place split boundaries; every row when the data is smaller",
        typeConverter=TypeConverters.toInt)
    boundaryStrategy: "Param[str]" = Param(
        Params._dummy(), "boundaryStrategy",
        "'exact' (default): exact quantiles of a content-hash sample, identical in any layout; "
        "'approx': Spark's approxQuantile, fast but not layout-invariant",
        typeConverter=TypeConverters.toString)
    rowIdCol: "Param[str]" = Param(
        Params._dummy(), "rowIdCol",
        "optional row id column; when set, the boundary sample is chosen by a hash of the id instead of the row's content",
        typeConverter=TypeConverters.toString)
    boundaries: "Param[List[List[float]]]" = Param(
        Params._dummy(), "boundaries",
        "locked split boundaries per feature (featureCols order); when set, no boundaries are computed",
        typeConverter=TypeConverters.toListListFloat)
    nativeThreads: "Param[int]" = Param(
        Params._dummy(), "nativeThreads",
        "native threads per task for histograms; 0 uses spark.task.cpus. Results do not depend on it",
        typeConverter=TypeConverters.toInt)
    scoringBatchSize: "Param[int]" = Param(
        Params._dummy(), "scoringBatchSize", "rows per Arrow batch sent to the native scorer",
        typeConverter=TypeConverters.toInt)

    def __init__(self, *args):
        super().__init__(*args)
        # The Scala defaults; transform/fit push these to the JVM, so they must match (tested).
        self._setDefault(maxDepth=3, minNodeSize=1, maxBins=64, maxMemoryMB=256, boundarySampleSize=200000,
                         boundaryStrategy="exact", nativeThreads=0, scoringBatchSize=4096)

    def getFeatureCols(self) -> List[str]:
        """Gets the value of :py:attr:`featureCols`."""
        return self.getOrDefault(self.featureCols)

    def getTreatmentCol(self) -> str:
        """Gets the value of :py:attr:`treatmentCol`."""
        return self.getOrDefault(self.treatmentCol)

    def getRewardCols(self) -> List[str]:
        """Gets the value of :py:attr:`rewardCols`."""
        return self.getOrDefault(self.rewardCols)

    def getOutcomeCol(self) -> str:
        """Gets the value of :py:attr:`outcomeCol`."""
        return self.getOrDefault(self.outcomeCol)

    def getPropensityCol(self) -> str:
        """Gets the value of :py:attr:`propensityCol`."""
        return self.getOrDefault(self.propensityCol)

    def getRewardType(self) -> str:
        """Gets the value of :py:attr:`rewardType`."""
        return self.getOrDefault(self.rewardType)

    def getMaxDepth(self) -> int:
        """Gets the value of :py:attr:`maxDepth`."""
        return self.getOrDefault(self.maxDepth)

    def getMinNodeSize(self) -> int:
        """Gets the value of :py:attr:`minNodeSize`."""
        return self.getOrDefault(self.minNodeSize)

    def getMaxBins(self) -> int:
        """Gets the value of :py:attr:`maxBins`."""
        return self.getOrDefault(self.maxBins)

    def getMaxMemoryMB(self) -> int:
        """Gets the value of :py:attr:`maxMemoryMB`."""
        return self.getOrDefault(self.maxMemoryMB)

    def getBoundarySampleSize(self) -> int:
        """Gets the value of :py:attr:`boundarySampleSize`."""
        return self.getOrDefault(self.boundarySampleSize)

    def getBoundaryStrategy(self) -> str:
        """Gets the value of :py:attr:`boundaryStrategy`."""
        return self.getOrDefault(self.boundaryStrategy)

    def getRowIdCol(self) -> str:
        """Gets the value of :py:attr:`rowIdCol`."""
        return self.getOrDefault(self.rowIdCol)

    def getBoundaries(self) -> List[List[float]]:
        """Gets the value of :py:attr:`boundaries`."""
        return self.getOrDefault(self.boundaries)

    def getNativeThreads(self) -> int:
        """Gets the value of :py:attr:`nativeThreads`."""
        return self.getOrDefault(self.nativeThreads)

    def getScoringBatchSize(self) -> int:
        """Gets the value of :py:attr:`scoringBatchSize`."""
        return self.getOrDefault(self.scoringBatchSize)


class _AipwParams(Params):
    """How AIPW rewards cross-fit their nuisances, and what happens to invalid rows (Scala: HasAipwSettings)."""

    crossFitFolds: "Param[int]" = Param(
        Params._dummy(), "crossFitFolds",
        "AIPW cross-fitting folds K, chosen by a hash of each row's content (or rowIdCol); fold k is predicted by models "
        "fitted on the other folds",
        typeConverter=TypeConverters.toInt)
    propensityFloor: "Param[float]" = Param(
        Params._dummy(), "propensityFloor",
        "AIPW propensities are clipped to [propensityFloor, 1]; the number of clipped rows is in the training summary",
        typeConverter=TypeConverters.toFloat)
    propensityModel: "Param[str]" = Param(
        Params._dummy(), "propensityModel",
        "AIPW propensity when propensityCol is unset: 'shares' (the arm's share of all rows, for randomized designs) or "
        "'tree' (the arm's share of the leaf of the row's cross-fitted outcome tree)",
        typeConverter=TypeConverters.toString)
    outcomeMaxDepth: "Param[int]" = Param(
        Params._dummy(), "outcomeMaxDepth", "depth of the native cross-fitted outcome trees μ̂ (1 to 12)",
        typeConverter=TypeConverters.toInt)
    outcomeMinNodeSize: "Param[int]" = Param(
        Params._dummy(), "outcomeMinNodeSize",
        "minimum rows in each child of an outcome-tree split; a leaf's arm mean needs this many rows of the arm, else it comes "
        "from the nearest ancestor that has them",
        typeConverter=TypeConverters.toInt)
    handleInvalid: "Param[str]" = Param(
        Params._dummy(), "handleInvalid",
        "rows with a null treatment or a null, NaN or infinite outcome: 'error' (default; the message names the column and "
        "count) or 'skip' (dropped and counted in the training summary)",
        typeConverter=TypeConverters.toString)

    def __init__(self, *args):
        super().__init__(*args)
        self._setDefault(crossFitFolds=5, propensityFloor=0.01, propensityModel="shares", outcomeMaxDepth=4,
                         outcomeMinNodeSize=20, handleInvalid="error")

    def setCrossFitFolds(self, value: int):
        """Sets the value of :py:attr:`crossFitFolds`."""
        return self._set(crossFitFolds=value)

    def getCrossFitFolds(self) -> int:
        """Gets the value of :py:attr:`crossFitFolds`."""
        return self.getOrDefault(self.crossFitFolds)

    def setPropensityFloor(self, value: float):
        """Sets the value of :py:attr:`propensityFloor`."""
        return self._set(propensityFloor=value)

    def getPropensityFloor(self) -> float:
        """Gets the value of :py:attr:`propensityFloor`."""
        return self.getOrDefault(self.propensityFloor)

    def setPropensityModel(self, value: str):
        """Sets the value of :py:attr:`propensityModel`."""
        return self._set(propensityModel=value)

    def getPropensityModel(self) -> str:
        """Gets the value of :py:attr:`propensityModel`."""
        return self.getOrDefault(self.propensityModel)

    def setOutcomeMaxDepth(self, value: int):
        """Sets the value of :py:attr:`outcomeMaxDepth`."""
        return self._set(outcomeMaxDepth=value)

    def getOutcomeMaxDepth(self) -> int:
        """Gets the value of :py:attr:`outcomeMaxDepth`."""
        return self.getOrDefault(self.outcomeMaxDepth)

    def setOutcomeMinNodeSize(self, value: int):
        """Sets the value of :py:attr:`outcomeMinNodeSize`."""
        return self._set(outcomeMinNodeSize=value)

    def getOutcomeMinNodeSize(self) -> int:
        """Gets the value of :py:attr:`outcomeMinNodeSize`."""
        return self.getOrDefault(self.outcomeMinNodeSize)

    def setHandleInvalid(self, value: str):
        """Sets the value of :py:attr:`handleInvalid`."""
        return self._set(handleInvalid=value)

    def getHandleInvalid(self) -> str:
        """Gets the value of :py:attr:`handleInvalid`."""
        return self.getOrDefault(self.handleInvalid)

    def setOutcomeModel(self, regressor):
        """Any Spark ML regressor as the AIPW outcome model instead of the native trees, fitted per fold × arm on the
        fold's complement. Saved with the stage (it must be MLWritable); outside the semantic contract when the
        regressor is layout-dependent."""
        _not_over_connect("setOutcomeModel", "a Connect client cannot pass an estimator object as a Param; use the native "
                          "outcome trees (the default) or a classic session")
        self._outcome_model = regressor
        return self

    def _transfer_outcome_model(self):
        # Absent: never set here (a loaded stage keeps the JVM's); None: cleared by setOutcomeModel(None).
        if not hasattr(self, "_outcome_model"):
            return
        regressor = self._outcome_model
        if regressor is None:
            self._java_obj.setOutcomeModel(None)
        else:
            regressor._transfer_params_to_java()
            self._java_obj.setOutcomeModel(regressor._java_obj)


class _Reader(JavaMLReader):
    """Loads through ``org.sparkpolicy.ml.<Class>.read`` (pyspark would look under org.apache.spark)."""

    @classmethod
    def _java_loader_class(cls, clazz) -> str:
        return f"{_JAVA_PACKAGE}.{clazz.__name__}"


def _category_orders_json(value) -> str:
    """categoryOrders as the JSON text Scala reads: a dict {column: [label, ...]} is encoded, text kept."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        import json

        return json.dumps({k: [str(v) for v in vs] for k, vs in sorted(value.items())}, separators=(",", ":"))
    raise TypeError(f"categoryOrders takes a dict {{column: [label, ...]}} or its JSON text, not {type(value)}")


class _CategoricalParams(Params):
    """Which features are categorical, and their category order (Scala: HasCategoricalFeatures)."""

    categoricalCols: "Param[List[str]]" = Param(
        Params._dummy(), "categoricalCols",
        "feature columns to treat as categorical (a subset of featureCols); string features are categorical anyway, "
        "and a numeric column listed here is coded by its value as a string",
        typeConverter=TypeConverters.toListString)
    categoryOrders: "Param[str]" = Param(
        Params._dummy(), "categoryOrders",
        "optional JSON object {column: [label, ...]} fixing a categorical feature's category codes (code i = label i); "
        "default: the observed labels sorted by UTF-8 bytes",
        typeConverter=_category_orders_json)

    def __init__(self, *args):
        super().__init__(*args)
        self._setDefault(categoryOrders="{}")

    def setCategoricalCols(self, value: List[str]):
        """Sets the value of :py:attr:`categoricalCols`."""
        return self._set(categoricalCols=value)

    def getCategoricalCols(self) -> List[str]:
        """Gets the value of :py:attr:`categoricalCols` (empty when unset)."""
        return self.getOrDefault(self.categoricalCols) if self.isDefined(self.categoricalCols) else []

    def setCategoryOrders(self, value):
        """Sets :py:attr:`categoryOrders` from a dict {column: [label, ...]} or its JSON text."""
        return self._set(categoryOrders=value)

    def getCategoryOrders(self) -> str:
        """Gets the value of :py:attr:`categoryOrders` (JSON)."""
        return self.getOrDefault(self.categoryOrders)


class PolicyTreeLearner(JavaEstimator, _PolicyTreeParams, _CategoricalParams, _AipwParams, JavaMLWritable, JavaMLReadable):
    """
    Learns a shallow policy tree that picks one of K arms per row to maximize the summed reward Γ.
    The tree is grown greedily, level by level, with policytree's split criterion (best-arm sum left plus
    best-arm sum right) on native exact-integer histograms and without collecting rows, histograms or
    candidates on the driver. Wraps ``org.sparkpolicy.ml.PolicyTreeLearner``.

    >>> learner = PolicyTreeLearner(featureCols=["recency", "history"], treatmentCol="segment",
    ...                             outcomeCol="spend", maxDepth=3)   # IPW rewards
    >>> model = learner.fit(train)                                    # doctest: +SKIP
    """

    @keyword_only
    def __init__(self, *, featureCols=None, treatmentCol=None, rewardCols=None, outcomeCol=None,
                 propensityCol=None, rewardType=None, treatmentVocabulary=None, maxDepth=3, minNodeSize=1,
                 maxBins=64, maxMemoryMB=256, boundarySampleSize=200000, boundaryStrategy="exact",
                 rowIdCol=None, boundaries=None, nativeThreads=0, scoringBatchSize=4096, crossFitFolds=5,
                 propensityFloor=0.01, propensityModel="shares", outcomeMaxDepth=4, outcomeMinNodeSize=20,
                 handleInvalid="error", categoricalCols=None, categoryOrders="{}"):
        super().__init__()
        self._java_obj = self._new_java_obj(f"{_JAVA_PACKAGE}.PolicyTreeLearner", self.uid)
        self.setParams(**self._input_kwargs)

    @keyword_only
    def setParams(self, *, featureCols=None, treatmentCol=None, rewardCols=None, outcomeCol=None,
                  propensityCol=None, rewardType=None, treatmentVocabulary=None, maxDepth=3, minNodeSize=1,
                  maxBins=64, maxMemoryMB=256, boundarySampleSize=200000, boundaryStrategy="exact",
                  rowIdCol=None, boundaries=None, nativeThreads=0, scoringBatchSize=4096, crossFitFolds=5,
                  propensityFloor=0.01, propensityModel="shares", outcomeMaxDepth=4, outcomeMinNodeSize=20,
                  handleInvalid="error", categoricalCols=None, categoryOrders="{}") -> "PolicyTreeLearner":
        """Sets the params given as keywords (the others keep their values)."""
        return self._set(**self._input_kwargs)

    @classmethod
    def read(cls) -> _Reader:
        return _reader(cls)

    def _create_model(self, java_model) -> "PolicyTreeModel":
        return PolicyTreeModel(java_model)

    def _transfer_params_to_java(self):
        super()._transfer_params_to_java()
        self._transfer_outcome_model()  # so fit and save both see it

    def _fit_java(self, dataset):
        self._transfer_params_to_java()
        return self._java_obj.fit(dataset._jdf)

    def setFeatureCols(self, value: List[str]) -> "PolicyTreeLearner":
        """Sets the value of :py:attr:`featureCols`."""
        return self._set(featureCols=value)

    def setTreatmentCol(self, value: str) -> "PolicyTreeLearner":
        """Sets the value of :py:attr:`treatmentCol`."""
        return self._set(treatmentCol=value)

    def setRewardCols(self, value: List[str]) -> "PolicyTreeLearner":
        """Sets the value of :py:attr:`rewardCols`."""
        return self._set(rewardCols=value)

    def setOutcomeCol(self, value: str) -> "PolicyTreeLearner":
        """Sets the value of :py:attr:`outcomeCol`."""
        return self._set(outcomeCol=value)

    def setPropensityCol(self, value: str) -> "PolicyTreeLearner":
        """Sets the value of :py:attr:`propensityCol`."""
        return self._set(propensityCol=value)

    def setRewardType(self, value: str) -> "PolicyTreeLearner":
        """Sets the value of :py:attr:`rewardType`."""
        return self._set(rewardType=value)

    def setTreatmentVocabulary(self, value: List[str]) -> "PolicyTreeLearner":
        """Sets the value of :py:attr:`treatmentVocabulary`."""
        return self._set(treatmentVocabulary=value)

    def getTreatmentVocabulary(self) -> List[str]:
        """Gets the value of :py:attr:`treatmentVocabulary` (the model's method returns the resolved arms)."""
        return self.getOrDefault(self.treatmentVocabulary)

    def setMaxDepth(self, value: int) -> "PolicyTreeLearner":
        """Sets the value of :py:attr:`maxDepth`."""
        return self._set(maxDepth=value)

    def setMinNodeSize(self, value: int) -> "PolicyTreeLearner":
        """Sets the value of :py:attr:`minNodeSize`."""
        return self._set(minNodeSize=value)

    def setMaxBins(self, value: int) -> "PolicyTreeLearner":
        """Sets the value of :py:attr:`maxBins`."""
        return self._set(maxBins=value)

    def setMaxMemoryMB(self, value: int) -> "PolicyTreeLearner":
        """Sets the value of :py:attr:`maxMemoryMB`."""
        return self._set(maxMemoryMB=value)

    def setBoundarySampleSize(self, value: int) -> "PolicyTreeLearner":
        """Sets the value of :py:attr:`boundarySampleSize`."""
        return self._set(boundarySampleSize=value)

    def setBoundaryStrategy(self, value: str) -> "PolicyTreeLearner":
        """Sets the value of :py:attr:`boundaryStrategy`."""
        return self._set(boundaryStrategy=value)

    def setRowIdCol(self, value: str) -> "PolicyTreeLearner":
        """Sets the value of :py:attr:`rowIdCol`."""
        return self._set(rowIdCol=value)

    def setBoundaries(self, value: List[List[float]]) -> "PolicyTreeLearner":
        """Locks the split boundaries (one strictly increasing list per feature, featureCols order)."""
        return self._set(boundaries=value)

    def setNativeThreads(self, value: int) -> "PolicyTreeLearner":
        """Sets the value of :py:attr:`nativeThreads`."""
        return self._set(nativeThreads=value)

    def setScoringBatchSize(self, value: int) -> "PolicyTreeLearner":
        """Sets the value of :py:attr:`scoringBatchSize`."""
        return self._set(scoringBatchSize=value)


class PolicyTreeModel(JavaModel, _PolicyTreeParams, _AipwParams, JavaMLWritable, JavaMLReadable):
    """
    A learned policy tree. ``transform`` appends ``policy_action`` (arm label), ``policy_action_index``,
    ``policy_scores`` (the leaf's mean Γ per arm, vocabulary order) and ``policy_leaf`` (heap node id),
    scoring partitions natively in Arrow batches. :meth:`transformWithSql` does the same with a pure
    Spark SQL expression and agrees bit for bit. Wraps ``org.sparkpolicy.ml.PolicyTreeModel``.
    """

    @classmethod
    def read(cls) -> _Reader:
        return _reader(cls)

    def _summary_field(self, name: str) -> int:
        # Over Connect, toString (Identifiable) is the one method the server lets a client call on our model;
        # it reads "PolicyTreeModel: uid=..., depth=D, numNodes=N, arms=K".
        text = self._call_java("toString")
        found = re.search(rf"\b{name}=(\d+)", text)
        if found is None:
            raise RuntimeError(f"cannot read {name} from the model's toString: {text!r}")
        return int(found.group(1))

    @property
    def depth(self) -> int:
        """Depth of the tree."""
        return self._summary_field("depth") if is_remote() else self._call_java("depth")

    @property
    def numNodes(self) -> int:
        """Number of nodes of the tree."""
        return self._summary_field("numNodes") if is_remote() else self._call_java("numNodes")

    def getTreatmentVocabulary(self) -> List[str]:
        """The resolved arm labels, in the order of ``policy_scores`` and ``policy_action_index``."""
        _not_over_connect("getTreatmentVocabulary", "set treatmentVocabulary on the learner to fix the arm order, "
                          "or read 'vocabulary' from saved_model_info(spark, path) after model.save(path)")
        return list(self._java_obj.getTreatmentVocabulary())

    @property
    def splitBoundaries(self) -> List[List[float]]:
        """Split boundaries per feature, in ``featureCols`` order (the locked or computed ones)."""
        _not_over_connect("splitBoundaries", "read 'boundaries' from saved_model_info(spark, path) after model.save(path)")
        return [list(b) for b in self._java_obj.splitBoundaries()]

    @property
    def unseenCategoryCount(self) -> int:
        """Categorical values unseen in training that the latest native ``transform`` scored as missing (the
        split's missing side), summed when an action computes the output; each computation adds again."""
        _not_over_connect("unseenCategoryCount", "unseen labels are scored as missing; count them with SQL")
        return self._call_java("unseenCategoryCount")

    @property
    def bestArmOnTraining(self) -> str:
        """The best constant arm on the training data (the root's best arm)."""
        _not_over_connect("bestArmOnTraining", "read 'bestArmOnTraining' from saved_model_info(spark, path) "
                          "after model.save(path)")
        return self._call_java("bestArmOnTraining")

    @property
    def toDebugString(self) -> str:
        """The model summary line and the tree, one node per line."""
        _not_over_connect("toDebugString", "depth and numNodes work; print the tree from a classic session "
                          "(PolicyTreeModel.load(path).toDebugString)")
        return self._call_java("toDebugString")

    @property
    def signatures(self) -> Dict[str, str]:
        """The six SHA-256 signatures: ``manifest``, ``boundaries``, ``model``, ``decisions``, and ``input``
        and ``output`` of the training data. Same contract and rows give the same signatures in any layout."""
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

    def toSqlExpression(self) -> str:
        """The tree as one Spark SQL expression yielding
        struct(policy_action, policy_action_index, policy_scores, policy_leaf)."""
        _not_over_connect("toSqlExpression", "export it once from a classic session or Scala and apply it with "
                          "F.expr(sql) (see docs/quickstart.md)")
        return self._call_java("toSqlExpression")

    def transformWithSql(self, df: DataFrame) -> DataFrame:
        """``transform`` through the pure-SQL backend: same columns, bit-identical values, no native code."""
        _not_over_connect("transformWithSql", "use transform(df), or apply an exported toSqlExpression() with F.expr")
        return DataFrame(self._java_obj.transformWithSql(df._jdf), df.sparkSession)


class PolicyValueEvaluator(JavaEvaluator, JavaMLWritable, JavaMLReadable):
    """
    Honest policy value on rows not used for fitting: mean Γ(π(X)) with its standard error, every
    constant-arm policy, and paired differences against the training-chosen best arm and a baseline,
    with 95% intervals. Sums are exact, so the same rows give bit-identical results in any layout.
    Wraps ``org.sparkpolicy.ml.PolicyValueEvaluator``.
    """

    rewardsCol: "Param[str]" = Param(Params._dummy(), "rewardsCol", "array<double> column of Γ per arm, vocabulary order",
                                     typeConverter=TypeConverters.toString)
    rewardCols: "Param[List[str]]" = Param(Params._dummy(), "rewardCols",
                                           "one Γ column per arm, vocabulary order (instead of rewardsCol)",
                                           typeConverter=TypeConverters.toListString)
    predictionCol: "Param[str]" = Param(Params._dummy(), "predictionCol", "the policy's arm index column",
                                        typeConverter=TypeConverters.toString)
    treatmentVocabulary: "Param[List[str]]" = Param(Params._dummy(), "treatmentVocabulary",
                                                    "arm labels, to name arms in the summary",
                                                    typeConverter=TypeConverters.toListString)
    bestArm: "Param[str]" = Param(Params._dummy(), "bestArm",
                                  "the best constant arm chosen on the training data (label or index)",
                                  typeConverter=TypeConverters.toString)
    baselineArm: "Param[str]" = Param(Params._dummy(), "baselineArm",
                                      "the arm to compare with, e.g. the control (label or index)",
                                      typeConverter=TypeConverters.toString)
    metricName: "Param[str]" = Param(Params._dummy(), "metricName", "policyValue | gainOverBestArm | gainOverBaseline",
                                     typeConverter=TypeConverters.toString)

    @keyword_only
    def __init__(self, *, rewardsCol=None, rewardCols=None, predictionCol="policy_action_index",
                 treatmentVocabulary=None, bestArm=None, baselineArm=None, metricName="policyValue"):
        super().__init__()
        self._java_obj = self._new_java_obj(_JAVA_PACKAGE + ".PolicyValueEvaluator", self.uid)
        self._setDefault(predictionCol="policy_action_index", metricName="policyValue")
        self._set(**self._input_kwargs)

    @classmethod
    def read(cls) -> _Reader:
        return _reader(cls)

    def setRewardsCol(self, value: str) -> "PolicyValueEvaluator":
        return self._set(rewardsCol=value)

    def setRewardCols(self, value: List[str]) -> "PolicyValueEvaluator":
        return self._set(rewardCols=value)

    def setPredictionCol(self, value: str) -> "PolicyValueEvaluator":
        return self._set(predictionCol=value)

    def setTreatmentVocabulary(self, value: List[str]) -> "PolicyValueEvaluator":
        return self._set(treatmentVocabulary=value)

    def setBestArm(self, value: str) -> "PolicyValueEvaluator":
        return self._set(bestArm=value)

    def setBaselineArm(self, value: str) -> "PolicyValueEvaluator":
        return self._set(baselineArm=value)

    def setMetricName(self, value: str) -> "PolicyValueEvaluator":
        return self._set(metricName=value)

    def setModel(self, model: "PolicyTreeModel") -> "PolicyValueEvaluator":
        """Takes the arm labels and the training-data best arm from a fitted model."""
        _not_over_connect("PolicyValueEvaluator.setModel", "set treatmentVocabulary and bestArm directly, e.g. "
                          "from saved_model_info(spark, path)")
        return self._set(treatmentVocabulary=model.getTreatmentVocabulary(), bestArm=model.bestArmOnTraining)

    def isLargerBetter(self) -> bool:
        return True

    def summary(self, dataset: DataFrame) -> DataFrame:
        """One row per estimate: (policy, value, se, ci_low, ci_high, n)."""
        _not_over_connect("PolicyValueEvaluator.summary", "evaluate(df) works for each metricName "
                          "(policyValue, gainOverBestArm, gainOverBaseline)")
        self._transfer_params_to_java()
        return DataFrame(self._java_obj.summary(dataset._jdf), dataset.sparkSession)



class QiniEvaluator(JavaEvaluator, JavaMLWritable, JavaMLReadable):
    """
    The Qini (uplift) curve of ``treatmentArm`` against ``controlArm`` and its area, normalized as
    scikit-uplift's ``qini_auc_score`` (``negative_effect=True``): ``evaluate`` returns that score.
    The uplift is ``upliftCol`` if set, else ``scoresCol[treatmentArm] - scoresCol[controlArm]`` (the model's
    ``policy_scores``; :meth:`setModel` names the arms). Rows of other arms are left out and counted.
    Ties are grouped as scikit-uplift does and sums are exact, so any layout gives the same result.
    Wraps ``org.sparkpolicy.ml.QiniEvaluator``.
    """

    upliftCol: "Param[str]" = Param(Params._dummy(), "upliftCol",
                                    "numeric uplift score column; when unset, scoresCol[treatmentArm] − scoresCol[controlArm]",
                                    typeConverter=TypeConverters.toString)
    scoresCol: "Param[str]" = Param(Params._dummy(), "scoresCol",
                                    "array<double> of per-arm scores in treatmentVocabulary order (the model's policy_scores)",
                                    typeConverter=TypeConverters.toString)
    treatmentVocabulary: "Param[List[str]]" = Param(Params._dummy(), "treatmentVocabulary", "arm labels in scoresCol order",
                                                    typeConverter=TypeConverters.toListString)
    treatmentCol: "Param[str]" = Param(Params._dummy(), "treatmentCol", "column of arm labels",
                                       typeConverter=TypeConverters.toString)
    outcomeCol: "Param[str]" = Param(Params._dummy(), "outcomeCol", "numeric outcome column (scikit-uplift requires 0/1)",
                                     typeConverter=TypeConverters.toString)
    treatmentArm: "Param[str]" = Param(Params._dummy(), "treatmentArm", "label of the treated arm",
                                       typeConverter=TypeConverters.toString)
    controlArm: "Param[str]" = Param(Params._dummy(), "controlArm", "label of the control arm",
                                     typeConverter=TypeConverters.toString)

    @keyword_only
    def __init__(self, *, upliftCol=None, scoresCol="policy_scores", treatmentVocabulary=None, treatmentCol=None,
                 outcomeCol=None, treatmentArm=None, controlArm=None):
        super().__init__()
        self._java_obj = self._new_java_obj(_JAVA_PACKAGE + ".QiniEvaluator", self.uid)
        self._setDefault(scoresCol="policy_scores")
        self._set(**self._input_kwargs)

    @classmethod
    def read(cls) -> _Reader:
        return _reader(cls)

    def setUpliftCol(self, value: str) -> "QiniEvaluator":
        return self._set(upliftCol=value)

    def setScoresCol(self, value: str) -> "QiniEvaluator":
        return self._set(scoresCol=value)

    def setTreatmentVocabulary(self, value: List[str]) -> "QiniEvaluator":
        return self._set(treatmentVocabulary=value)

    def setTreatmentCol(self, value: str) -> "QiniEvaluator":
        return self._set(treatmentCol=value)

    def setOutcomeCol(self, value: str) -> "QiniEvaluator":
        return self._set(outcomeCol=value)

    def setTreatmentArm(self, value: str) -> "QiniEvaluator":
        return self._set(treatmentArm=value)

    def setControlArm(self, value: str) -> "QiniEvaluator":
        return self._set(controlArm=value)

    def setModel(self, model: "PolicyTreeModel") -> "QiniEvaluator":
        """Takes the arm labels (the order of ``policy_scores``) from a fitted model."""
        return self._set(treatmentVocabulary=model.getTreatmentVocabulary())

    def isLargerBetter(self) -> bool:
        return True

    def summary(self, dataset: DataFrame) -> DataFrame:
        """One row: qini_auc_score, area_model, area_perfect, area_random, n_treatment, n_control, n_excluded."""
        _not_over_connect("QiniEvaluator.summary", "evaluate(df) returns qini_auc_score")
        self._transfer_params_to_java()
        return DataFrame(self._java_obj.summary(dataset._jdf), dataset.sparkSession)

    def curve(self, dataset: DataFrame) -> DataFrame:
        """The curves as rows (curve: "model" | "perfect" | "random", point, n, qini), for plotting."""
        _not_over_connect("QiniEvaluator.curve", "evaluate(df) returns qini_auc_score")
        self._transfer_params_to_java()
        return DataFrame(self._java_obj.curve(dataset._jdf), dataset.sparkSession)

class DoublyRobustScores(JavaTransformer, _CategoricalParams, _AipwParams, JavaMLWritable, JavaMLReadable):
    """
    Appends each row's AIPW scores Γ(a) as one ``array<double>`` column (vocabulary order, ``rewardsCol``),
    with the outcome models cross-fitted on the transformed data itself (K folds by row hash). Feed it to
    :class:`PolicyValueEvaluator` (``rewardsCol``) to evaluate a policy honestly on a holdout. Same rows and
    Params give bit-identical scores in any layout. Wraps ``org.sparkpolicy.ml.DoublyRobustScores``.

    >>> scores = DoublyRobustScores(featureCols=FEATURES, treatmentCol="treatment", outcomeCol="outcome",
    ...                             treatmentVocabulary=model.getTreatmentVocabulary())  # doctest: +SKIP
    >>> PolicyValueEvaluator(rewardsCol="rewards").setModel(model).evaluate(scores.transform(model.transform(holdout)))  # doctest: +SKIP
    """

    featureCols = _PolicyTreeParams.featureCols
    treatmentCol = _PolicyTreeParams.treatmentCol
    rewardCols = _PolicyTreeParams.rewardCols
    outcomeCol = _PolicyTreeParams.outcomeCol
    propensityCol = _PolicyTreeParams.propensityCol
    rewardType = _PolicyTreeParams.rewardType
    treatmentVocabulary = _PolicyTreeParams.treatmentVocabulary
    rewardsCol: "Param[str]" = Param(Params._dummy(), "rewardsCol", "output array<double> column of Γ per arm, vocabulary order",
                                     typeConverter=TypeConverters.toString)
    maxBins = _PolicyTreeParams.maxBins
    boundarySampleSize = _PolicyTreeParams.boundarySampleSize
    rowIdCol: "Param[str]" = Param(
        Params._dummy(), "rowIdCol",
        "optional row id column; when set, folds and the boundary sample are chosen by a hash of the id instead of the row's content",
        typeConverter=TypeConverters.toString)

    @keyword_only
    def __init__(self, *, featureCols=None, categoricalCols=None, categoryOrders="{}", treatmentCol=None, outcomeCol=None,
                 propensityCol=None, treatmentVocabulary=None, rewardsCol="rewards", maxBins=64, boundarySampleSize=200000,
                 rowIdCol=None, crossFitFolds=5, propensityFloor=0.01, propensityModel="shares", outcomeMaxDepth=4,
                 outcomeMinNodeSize=20, handleInvalid="error"):
        super().__init__()
        self._java_obj = self._new_java_obj(f"{_JAVA_PACKAGE}.DoublyRobustScores", self.uid)
        self._setDefault(rewardsCol="rewards", maxBins=64, boundarySampleSize=200000)
        self._set(**self._input_kwargs)

    @classmethod
    def read(cls) -> _Reader:
        return _reader(cls)

    def _transform(self, dataset: DataFrame) -> DataFrame:
        if is_remote():
            # pyspark's own transform sends the class name and Params to the Connect server.
            return super()._transform(dataset)
        self._transfer_params_to_java()
        return DataFrame(self._java_obj.transform(dataset._jdf), dataset.sparkSession)

    def _transfer_params_to_java(self):
        super()._transfer_params_to_java()
        self._transfer_outcome_model()  # so transform and save both see it

    def setFeatureCols(self, value: List[str]) -> "DoublyRobustScores":
        return self._set(featureCols=value)

    def setTreatmentCol(self, value: str) -> "DoublyRobustScores":
        return self._set(treatmentCol=value)

    def setRewardCols(self, value: List[str]) -> "DoublyRobustScores":
        return self._set(rewardCols=value)

    def setOutcomeCol(self, value: str) -> "DoublyRobustScores":
        return self._set(outcomeCol=value)

    def setPropensityCol(self, value: str) -> "DoublyRobustScores":
        return self._set(propensityCol=value)

    def setRewardType(self, value: str) -> "DoublyRobustScores":
        return self._set(rewardType=value)

    def setTreatmentVocabulary(self, value: List[str]) -> "DoublyRobustScores":
        return self._set(treatmentVocabulary=value)

    def setRewardsCol(self, value: str) -> "DoublyRobustScores":
        return self._set(rewardsCol=value)

    def setMaxBins(self, value: int) -> "DoublyRobustScores":
        return self._set(maxBins=value)

    def setBoundarySampleSize(self, value: int) -> "DoublyRobustScores":
        return self._set(boundarySampleSize=value)

    def setRowIdCol(self, value: str) -> "DoublyRobustScores":
        return self._set(rowIdCol=value)

    def getRewardsCol(self) -> str:
        """Gets the value of :py:attr:`rewardsCol`."""
        return self.getOrDefault(self.rewardsCol)

    def getFeatureCols(self):
        """Gets the value of :py:attr:`featureCols`."""
        return self.getOrDefault(self.featureCols)

    def getTreatmentCol(self):
        """Gets the value of :py:attr:`treatmentCol`."""
        return self.getOrDefault(self.treatmentCol)

    def getRewardCols(self):
        """Gets the value of :py:attr:`rewardCols`."""
        return self.getOrDefault(self.rewardCols)

    def getOutcomeCol(self):
        """Gets the value of :py:attr:`outcomeCol`."""
        return self.getOrDefault(self.outcomeCol)

    def getPropensityCol(self):
        """Gets the value of :py:attr:`propensityCol`."""
        return self.getOrDefault(self.propensityCol)

    def getRewardType(self):
        """Gets the value of :py:attr:`rewardType`."""
        return self.getOrDefault(self.rewardType)

    def getTreatmentVocabulary(self):
        """Gets the value of :py:attr:`treatmentVocabulary`."""
        return self.getOrDefault(self.treatmentVocabulary)

    def getMaxBins(self):
        """Gets the value of :py:attr:`maxBins`."""
        return self.getOrDefault(self.maxBins)

    def getBoundarySampleSize(self):
        """Gets the value of :py:attr:`boundarySampleSize`."""
        return self.getOrDefault(self.boundarySampleSize)

    def getRowIdCol(self):
        """Gets the value of :py:attr:`rowIdCol`."""
        return self.getOrDefault(self.rowIdCol)


def _seq(spark, values):
    return spark.sparkContext._jvm.PythonUtils.toSeq(list(values))


def _hash_unit(df: DataFrame, key_cols, seed: int):
    """HashSplit.unit in DataFrame functions, for Connect clients (no JVM): the same expression, so the
    same rows. Each key contributes (isNull, value); the seed is a bigint literal, as in Scala."""
    keys = list(key_cols) or df.columns
    for c in keys:
        if c not in df.columns:
            raise ValueError(f"keyCols: column '{c}' does not exist; available columns: {', '.join(df.columns)}")
    cols = [F.lit(int(seed)).cast("bigint")]
    for c in keys:
        ref = F.col("`" + c.replace("`", "``") + "`")
        cols += [ref.isNull(), ref]
    return F.pmod(F.xxhash64(*cols), F.lit(1 << 53).cast("bigint")).cast("double") / F.lit(float(1 << 53))


def train_test_split(df: DataFrame, train_fraction: float, key_cols: List[str] = (), seed: int = 17):
    """(train, test) decided by a hash of ``key_cols`` (all columns if empty): the same in any layout."""
    if is_remote():
        if not 0 < train_fraction < 1:
            raise ValueError(f"trainFraction must be in (0, 1), got {train_fraction}")
        u = _hash_unit(df, key_cols, seed)
        return df.where(u < float(train_fraction)), df.where(u >= float(train_fraction))
    jvm = df.sparkSession.sparkContext._jvm
    pair = jvm.org.sparkpolicy.ml.HashSplit.trainTestSplit(df._jdf, float(train_fraction), _seq(df.sparkSession, key_cols), int(seed))
    return DataFrame(pair._1(), df.sparkSession), DataFrame(pair._2(), df.sparkSession)


def with_fold_column(df: DataFrame, k: int, fold_col: str = "fold", key_cols: List[str] = (), seed: int = 23) -> DataFrame:
    """Adds an integer fold column in 0..k-1 from a row hash, for ``CrossValidator.setFoldCol``."""
    if is_remote():
        if k < 2:
            raise ValueError(f"need at least 2 folds, got {k}")
        fold = F.least(F.floor(_hash_unit(df, key_cols, seed) * int(k)).cast("int"), F.lit(int(k) - 1))
        return df.withColumn(fold_col, fold)
    jvm = df.sparkSession.sparkContext._jvm
    return DataFrame(jvm.org.sparkpolicy.ml.HashSplit.withFoldColumn(df._jdf, int(k), fold_col, _seq(df.sparkSession, key_cols), int(seed)),
                     df.sparkSession)


def saved_model_info(spark, path: str) -> Dict[str, object]:
    """What a saved :class:`PolicyTreeModel` records, read as plain data (works over Spark Connect, where the
    model's own methods are blocked): ``uid``, ``featureCols``, ``vocabulary``, ``bestArmOnTraining``,
    ``boundaries``, ``signatures``, ``numRows`` and ``rewardType``."""
    import json

    meta = json.loads(spark.read.text(path.rstrip("/") + "/metadata").first()[0])
    if meta.get("class") != f"{_JAVA_PACKAGE}.PolicyTreeModel":
        raise ValueError(f"{path} holds a {meta.get('class')}, not a {_JAVA_PACKAGE}.PolicyTreeModel")
    manifest, training = meta["contract"]["manifest"], meta["training"]
    vocabulary = list(manifest["vocabulary"])
    return {"uid": meta["uid"], "featureCols": [f["name"] for f in manifest["features"]], "vocabulary": vocabulary,
            "bestArmOnTraining": vocabulary[training["bestArmOnTraining"]],
            "boundaries": [[float(v) for v in b] for b in meta["contract"]["boundaries"]],
            "signatures": dict(meta["signatures"]), "numRows": training["numRows"], "rewardType": training["rewardType"]}

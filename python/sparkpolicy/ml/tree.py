"""The policy tree (Scala: ``org.sparkpolicy.ml.PolicyTreeLearner`` and ``PolicyTreeModel``), and
:func:`saved_model_info`, the plain-data view of a saved model."""
import re
from typing import Dict, List

from pyspark import keyword_only
from pyspark.ml.util import JavaMLWritable
from pyspark.ml.wrapper import JavaEstimator, JavaModel
from pyspark.sql import DataFrame
from pyspark.sql.utils import is_remote

from ._connect import _not_over_connect
from ._reader import _JAVA_PACKAGE, _JvmReadable
from .params import (_HasAipwSettings, _HasBinning, _HasCategoricalFeatures, _HasNativeResources, _HasPolicyFeatures,
                     _HasRewardInputs, _HasScoringBatch, _HasTreeGrowth)


class PolicyTreeLearner(JavaEstimator, _HasPolicyFeatures, _HasCategoricalFeatures, _HasRewardInputs, _HasAipwSettings,
                        _HasTreeGrowth, _HasBinning, _HasNativeResources, _HasScoringBatch, JavaMLWritable, _JvmReadable,
                        stage="PolicyTreeLearner"):
    """
    Learns a shallow policy tree that picks one of K arms per row to maximize the summed reward Γ.
    The tree is grown level by level (greedily, or with ``searchDepth=2`` each split the root of the best
    depth-2 subtree), with policytree's split criterion (best-arm sum left plus
    best-arm sum right) on native exact-integer histograms and without collecting rows, histograms or
    candidates on the driver. Wraps ``org.sparkpolicy.ml.PolicyTreeLearner``.

    >>> learner = PolicyTreeLearner(featureCols=["recency", "history"], treatmentCol="segment",
    ...                             outcomeCol="spend", maxDepth=3)   # IPW rewards
    >>> model = learner.fit(train)                                    # doctest: +SKIP
    """

    # The keyword defaults are the JVM's (tests/test_params.py checks them against _jvm_params).
    @keyword_only
    def __init__(self, *, featureCols=None, treatmentCol=None, rewardCols=None, outcomeCol=None,
                 propensityCol=None, rewardType=None, treatmentVocabulary=None, maxDepth=3, minNodeSize=1,
                 maxBins=64, maxMemoryMB=256, boundarySampleSize=50000, boundaryStrategy="exact",
                 rowIdCol=None, boundaries=None, nativeThreads=0, scoringBatchSize=4096, crossFitFolds=5,
                 propensityFloor=0.01, propensityModel="shares", outcomeMaxDepth=4, outcomeMinNodeSize=20,
                 handleInvalid="error", categoricalCols=None, categoryOrders="{}", thresholdSearch="exact",
                 searchDepth=1, refineBins=8):
        super().__init__()
        self._java_obj = self._new_java_obj(f"{_JAVA_PACKAGE}.PolicyTreeLearner", self.uid)
        self.setParams(**self._input_kwargs)

    @keyword_only
    def setParams(self, *, featureCols=None, treatmentCol=None, rewardCols=None, outcomeCol=None,
                  propensityCol=None, rewardType=None, treatmentVocabulary=None, maxDepth=3, minNodeSize=1,
                  maxBins=64, maxMemoryMB=256, boundarySampleSize=50000, boundaryStrategy="exact",
                  rowIdCol=None, boundaries=None, nativeThreads=0, scoringBatchSize=4096, crossFitFolds=5,
                  propensityFloor=0.01, propensityModel="shares", outcomeMaxDepth=4, outcomeMinNodeSize=20,
                  handleInvalid="error", categoricalCols=None, categoryOrders="{}", thresholdSearch="exact",
                  searchDepth=1, refineBins=8) -> "PolicyTreeLearner":
        """Sets the params given as keywords (the others keep their values)."""
        return self._set(**self._input_kwargs)

    def _create_model(self, java_model) -> "PolicyTreeModel":
        return PolicyTreeModel(java_model)

    def _transfer_params_to_java(self):
        super()._transfer_params_to_java()
        self._transfer_outcome_model()  # so fit and save both see it

    def getTreatmentVocabulary(self) -> List[str]:
        """Gets the value of :py:attr:`treatmentVocabulary` (the model's method returns the resolved arms)."""
        return self.getOrDefault(self.treatmentVocabulary)

    def setBoundaries(self, value: List[List[float]]) -> "PolicyTreeLearner":
        """Locks the split boundaries (one strictly increasing list per feature, featureCols order)."""
        return self._set(boundaries=value)


def _no_outcome_model(stage: str, learner: str):
    # A fitted model has its rewards already; the Python mixin's setter would be silently ignored here.
    raise NotImplementedError(f"{stage} has no setOutcomeModel: the outcome model is used when fitting; set it on {learner}")


class PolicyTreeModel(JavaModel, _HasPolicyFeatures, _HasRewardInputs, _HasAipwSettings, _HasTreeGrowth, _HasBinning,
                      _HasNativeResources, _HasScoringBatch, JavaMLWritable, _JvmReadable, stage="PolicyTreeModel"):
    """
    A learned policy tree. ``transform`` appends ``policy_action`` (arm label), ``policy_action_index``,
    ``policy_scores`` (the leaf's mean Γ per arm, vocabulary order) and ``policy_leaf`` (heap node id),
    scoring partitions natively in Arrow batches. :meth:`transformWithSql` does the same with a pure
    Spark SQL expression and agrees bit for bit. Wraps ``org.sparkpolicy.ml.PolicyTreeModel``.
    """

    def setOutcomeModel(self, regressor):
        """Not available on a fitted tree (set it on :class:`PolicyTreeLearner`); raises NotImplementedError."""
        _no_outcome_model("PolicyTreeModel", "PolicyTreeLearner")

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


def saved_model_info(spark, path: str) -> Dict[str, object]:
    """What a saved :class:`PolicyTreeModel` or :class:`~sparkpolicy.ml.PolicyForestModel` records, read as plain
    data (works over Spark Connect, where the models' own methods are blocked): ``uid``, ``featureCols``,
    ``vocabulary``, ``boundaries``, ``signatures``, ``numRows`` and ``rewardType``; a tree's also
    ``bestArmOnTraining``, a forest's ``numTrees``. A missing, corrupt or foreign save raises ``ValueError``
    naming ``<path>/metadata`` and what is wrong with it, as the models' ``load`` does."""
    import json

    where = path.rstrip("/") + "/metadata"
    try:
        first = spark.read.text(where).first()
    except Exception as e:  # AnalysisException (no such path), a failed read (checksum): all name the path below
        raise ValueError(f"{where}: cannot be read ({str(e).strip().splitlines()[0]})") from e
    line = first[0] if first is not None else ""
    if not line.strip():
        raise ValueError(f"{where}: empty (no JSON line)")
    try:
        meta = json.loads(line)
    except json.JSONDecodeError as e:
        # Cut short: the parser ran off the end, stopped in a string it never saw closed, or in a literal cut short.
        cut = (e.pos >= len(line) - 1 or e.msg.startswith("Unterminated string")
               or any(literal.startswith(line[e.pos:]) for literal in ("true", "false", "null")))
        raise ValueError(f"{where}: {'truncated' if cut else 'not valid'} JSON ({e.msg}, at character {e.pos + 1})") from e
    if not isinstance(meta, dict):
        raise ValueError(f"{where}: is JSON but not an object: not a saved Spark ML stage")
    models = [f"{_JAVA_PACKAGE}.PolicyTreeModel", f"{_JAVA_PACKAGE}.PolicyForestModel"]
    if meta.get("class") not in models:
        raise ValueError(f"{where} says class {meta.get('class')}; expected {' or '.join(models)}")
    try:
        manifest, training = meta["contract"]["manifest"], meta["training"]
        vocabulary = list(manifest["vocabulary"])
        info = {"uid": meta["uid"], "featureCols": [f["name"] for f in manifest["features"]], "vocabulary": vocabulary,
                "boundaries": [[float(v) for v in b] for b in meta["contract"]["boundaries"]],
                "signatures": dict(meta["signatures"]), "numRows": training["numRows"], "rewardType": training["rewardType"]}
        if meta["class"] == models[0]:
            info["bestArmOnTraining"] = vocabulary[training["bestArmOnTraining"]]
        else:
            info["numTrees"] = training["numTrees"]
        return info
    except (KeyError, IndexError, TypeError, ValueError) as e:
        raise ValueError(f"{where}: a field is missing or malformed ({type(e).__name__}: {e})") from e

"""Evaluators (Scala: ``org.sparkpolicy.ml.PolicyValueEvaluator`` and ``QiniEvaluator``)."""
from pyspark import keyword_only
from pyspark.ml.evaluation import JavaEvaluator
from pyspark.ml.util import JavaMLWritable
from pyspark.sql import DataFrame

from ._connect import _not_over_connect
from ._reader import _JAVA_PACKAGE, _JvmReadable
from .params import _JvmParams


class _SummaryEvaluator(JavaEvaluator, _JvmParams, JavaMLWritable, _JvmReadable):
    """What both evaluators share: larger is better, and DataFrame-valued methods of the JVM evaluator."""

    def isLargerBetter(self) -> bool:
        return True

    def _java_frame(self, method: str, dataset: DataFrame, instead: str) -> DataFrame:
        _not_over_connect(f"{type(self).__name__}.{method}", instead)
        self._transfer_params_to_java()
        return DataFrame(getattr(self._java_obj, method)(dataset._jdf), dataset.sparkSession)


class PolicyValueEvaluator(_SummaryEvaluator, stage="PolicyValueEvaluator"):
    """
    Honest policy value on rows not used for fitting: mean Γ(π(X)) with its standard error, every
    constant-arm policy, and paired differences against the training-chosen best arm and a baseline,
    with 95% intervals. Sums are exact, so the same rows give bit-identical results in any layout.
    Wraps ``org.sparkpolicy.ml.PolicyValueEvaluator``.
    """

    # The keyword defaults are the JVM's (tests/test_params.py checks them against _jvm_params).
    @keyword_only
    def __init__(self, *, rewardsCol=None, rewardCols=None, predictionCol="policy_action_index",
                 treatmentVocabulary=None, bestArm=None, baselineArm=None, metricName="policyValue"):
        super().__init__()
        self._java_obj = self._new_java_obj(_JAVA_PACKAGE + ".PolicyValueEvaluator", self.uid)
        self._set(**self._input_kwargs)

    def setModel(self, model: "PolicyTreeModel") -> "PolicyValueEvaluator":
        """Takes the arm labels and the training-data best arm from a fitted model."""
        _not_over_connect("PolicyValueEvaluator.setModel", "set treatmentVocabulary and bestArm directly, e.g. "
                          "from saved_model_info(spark, path)")
        return self._set(treatmentVocabulary=model.getTreatmentVocabulary(), bestArm=model.bestArmOnTraining)

    def summary(self, dataset: DataFrame) -> DataFrame:
        """One row per estimate: (policy, value, se, ci_low, ci_high, n)."""
        return self._java_frame("summary", dataset, "evaluate(df) works for each metricName "
                                "(policyValue, gainOverBestArm, gainOverBaseline)")


class QiniEvaluator(_SummaryEvaluator, stage="QiniEvaluator"):
    """
    The Qini (uplift) curve of ``treatmentArm`` against ``controlArm`` and its area, normalized as
    scikit-uplift's ``qini_auc_score`` (``negative_effect=True``): ``evaluate`` returns that score.
    The uplift is ``upliftCol`` if set, else ``scoresCol[treatmentArm] - scoresCol[controlArm]`` (the model's
    ``policy_scores``; :meth:`setModel` names the arms). Rows of other arms are left out and counted.
    Ties are grouped as scikit-uplift does and sums are exact, so any layout gives the same result.
    Wraps ``org.sparkpolicy.ml.QiniEvaluator``.
    """

    @keyword_only
    def __init__(self, *, upliftCol=None, scoresCol="policy_scores", treatmentVocabulary=None, treatmentCol=None,
                 outcomeCol=None, treatmentArm=None, controlArm=None):
        super().__init__()
        self._java_obj = self._new_java_obj(_JAVA_PACKAGE + ".QiniEvaluator", self.uid)
        self._set(**self._input_kwargs)

    def setModel(self, model: "PolicyTreeModel") -> "QiniEvaluator":
        """Takes the arm labels (the order of ``policy_scores``) from a fitted model."""
        return self._set(treatmentVocabulary=model.getTreatmentVocabulary())

    def summary(self, dataset: DataFrame) -> DataFrame:
        """One row: qini_auc_score, area_model, area_perfect, area_random, n_treatment, n_control, n_excluded."""
        return self._java_frame("summary", dataset, "evaluate(df) returns qini_auc_score")

    def curve(self, dataset: DataFrame) -> DataFrame:
        """The curves as rows (curve: "model" | "perfect" | "random", point, n, qini), for plotting."""
        return self._java_frame("curve", dataset, "evaluate(df) returns qini_auc_score")

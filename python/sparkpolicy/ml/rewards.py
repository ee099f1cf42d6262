"""Doubly robust (AIPW) rewards for honest evaluation (Scala: ``org.sparkpolicy.ml.DoublyRobustScores``)."""
from pyspark import keyword_only
from pyspark.ml.util import JavaMLWritable
from pyspark.ml.wrapper import JavaTransformer
from pyspark.sql import DataFrame
from pyspark.sql.utils import is_remote

from ._reader import _JAVA_PACKAGE, _JvmReadable
from .params import (_HasAipwSettings, _HasBinning, _HasCategoricalFeatures, _HasNativeResources, _HasPolicyFeatures,
                     _HasRewardInputs)


class DoublyRobustScores(JavaTransformer, _HasPolicyFeatures, _HasCategoricalFeatures, _HasRewardInputs, _HasAipwSettings,
                         _HasBinning, _HasNativeResources, JavaMLWritable, _JvmReadable, stage="DoublyRobustScores"):
    """
    Appends each row's AIPW scores Γ(a) as one ``array<double>`` column (vocabulary order, ``rewardsCol``),
    with the outcome models cross-fitted on the transformed data itself (K folds by row hash). Feed it to
    :class:`PolicyValueEvaluator` (``rewardsCol``) to evaluate a policy honestly on a holdout. Same rows and
    Params give bit-identical scores in any layout. Wraps ``org.sparkpolicy.ml.DoublyRobustScores``.

    >>> scores = DoublyRobustScores(featureCols=FEATURES, treatmentCol="treatment", outcomeCol="outcome",
    ...                             treatmentVocabulary=model.getTreatmentVocabulary())  # doctest: +SKIP
    >>> PolicyValueEvaluator(rewardsCol="rewards").setModel(model).evaluate(scores.transform(model.transform(holdout)))  # doctest: +SKIP
    """

    # The keyword defaults are the JVM's (tests/test_params.py checks them against _jvm_params).
    @keyword_only
    def __init__(self, *, featureCols=None, categoricalCols=None, categoryOrders="{}", treatmentCol=None, outcomeCol=None,
                 propensityCol=None, treatmentVocabulary=None, rewardsCol="rewards", maxBins=64, boundarySampleSize=50000,
                 rowIdCol=None, crossFitFolds=5, propensityFloor=0.01, propensityModel="shares", outcomeMaxDepth=4,
                 outcomeMinNodeSize=20, handleInvalid="error", rewardCols=None, rewardType=None, maxMemoryMB=256,
                 nativeThreads=0):
        super().__init__()
        self._java_obj = self._new_java_obj(f"{_JAVA_PACKAGE}.DoublyRobustScores", self.uid)
        self._set(**self._input_kwargs)

    def _transform(self, dataset: DataFrame) -> DataFrame:
        if is_remote():
            # pyspark's own transform sends the class name and Params to the Connect server.
            return super()._transform(dataset)
        self._transfer_params_to_java()
        return DataFrame(self._java_obj.transform(dataset._jdf), dataset.sparkSession)

    def _transfer_params_to_java(self):
        super()._transfer_params_to_java()
        self._transfer_outcome_model()  # so transform and save both see it

"""The Params of the stages, built from the JVM's own (``_jvm_params``, generated from the jar).

The mixins here mirror the Scala traits (``class _HasTreeGrowth(_JvmParams, trait="HasTreeGrowth")``) and
each stage class names its Scala class (``class PolicyTreeLearner(..., stage="PolicyTreeLearner")``).
:class:`_JvmParams` gives them, from the generated tables: a ``Param`` per JVM param with the JVM's doc and
type, the JVM's defaults, a getter ``getX`` per param and a setter ``setX`` where the Scala class has one.
Methods a class (or a mixin) writes itself are kept. The tables come from ``python/tools/gen_params.py``
(``make python-params``); ``tests/test_params.py`` fails when they differ from the JVM.
"""
from typing import Any, Callable, Dict, Iterable, List, Optional

from pyspark.ml.param import Param, Params, TypeConverters

from ._connect import _not_over_connect
from ._jvm_params import STAGES, TRAITS


def _category_orders_json(value) -> str:
    """categoryOrders as the JSON text Scala reads: a dict {column: [label, ...]} is encoded, text kept."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        import json

        return json.dumps({k: [str(v) for v in vs] for k, vs in sorted(value.items())}, separators=(",", ":"))
    raise TypeError(f"categoryOrders takes a dict {{column: [label, ...]}} or its JSON text, not {type(value)}")


# Python-side conversions that are more than the JVM type (the JVM's categoryOrders is a JSON string).
_CONVERTER_OVERRIDES: Dict[str, Callable[[Any], Any]] = {"categoryOrders": _category_orders_json}
_TYPE_HINTS = {"toInt": int, "toFloat": float, "toString": str, "toBoolean": bool, "toListString": List[str],
               "toListFloat": List[float], "toListInt": List[int], "toListListFloat": List[List[float]]}


def _accessor_name(prefix: str, param: str) -> str:
    return prefix + param[0].upper() + param[1:]


def _make_getter(cls, name: str, spec: Dict[str, Any]):
    def getter(self):
        return self.getOrDefault(getattr(self, name))

    getter.__name__ = _accessor_name("get", name)
    getter.__qualname__ = f"{cls.__name__}.{getter.__name__}"
    getter.__doc__ = f"Gets the value of :py:attr:`{name}`: {spec['doc']}."
    getter.__annotations__ = {"return": _TYPE_HINTS.get(spec["converter"], Any)}
    return getter


def _make_setter(cls, name: str, spec: Dict[str, Any]):
    def setter(self, value):
        return self._set(**{name: value})

    setter.__name__ = _accessor_name("set", name)
    setter.__qualname__ = f"{cls.__name__}.{setter.__name__}"
    setter.__doc__ = f"Sets the value of :py:attr:`{name}`: {spec['doc']}."
    setter.__annotations__ = {"value": _TYPE_HINTS.get(spec["converter"], Any)}
    return setter


def _stage_params(stage: str) -> Dict[str, Dict[str, Any]]:
    """Every Param of a JVM stage: its traits', then its own (which may redefine a trait's)."""
    params: Dict[str, Dict[str, Any]] = {}
    for trait in STAGES[stage]["traits"]:
        params.update(TRAITS[trait])
    params.update(STAGES[stage]["params"])
    return params


def _install(cls, specs: Dict[str, Dict[str, Any]], setters: Iterable[str]) -> None:
    defaults: Dict[str, Any] = {}
    for base in reversed(cls.__mro__[1:]):
        defaults.update(base.__dict__.get("_jvm_defaults", {}))
    for name in sorted(specs):
        spec = specs[name]
        inherited = getattr(cls, name, None)
        if not (isinstance(inherited, Param) and inherited.doc == spec["doc"]):
            converter = _CONVERTER_OVERRIDES.get(name) or getattr(TypeConverters, spec["converter"])
            setattr(cls, name, Param(Params._dummy(), name, spec["doc"], typeConverter=converter))
        if "default" in spec:
            defaults[name] = spec["default"]
        else:
            defaults.pop(name, None)
        if not hasattr(cls, _accessor_name("get", name)):
            setattr(cls, _accessor_name("get", name), _make_getter(cls, name, spec))
        if name in setters and not hasattr(cls, _accessor_name("set", name)):
            setattr(cls, _accessor_name("set", name), _make_setter(cls, name, spec))
    cls._jvm_defaults = defaults


class _JvmParams(Params):
    """Params, getters, setters and defaults from the JVM (see the module doc).

    ``trait``: a Scala trait of ``org.sparkpolicy.ml`` (a mixin), with setters for its Params if ``setters``;
    ``stage``: a Scala stage class, with the setters it has in Scala.
    """

    _jvm_defaults: Dict[str, Any] = {}

    def __init_subclass__(cls, trait: Optional[str] = None, stage: Optional[str] = None, setters: bool = False,
                          **kwargs):
        super().__init_subclass__(**kwargs)
        cls._jvm_trait, cls._jvm_stage = trait, stage
        if trait is not None:
            _install(cls, TRAITS[trait], TRAITS[trait] if setters else ())
        if stage is not None:
            _install(cls, _stage_params(stage), STAGES[stage]["setters"])

    def __init__(self, *args):
        super().__init__(*args)
        # The JVM's defaults: fit, transform and save push them to the JVM, so they must be the same (tested).
        self._setDefault(**type(self)._jvm_defaults)


class _HasPolicyFeatures(_JvmParams, trait="HasPolicyFeatures"):
    """Which columns hold the features (Scala: HasPolicyFeatures)."""


class _HasRewardInputs(_JvmParams, trait="HasRewardInputs"):
    """Where the rewards Γ come from (Scala: HasRewardInputs)."""


class _HasTreeGrowth(_JvmParams, trait="HasTreeGrowth"):
    """How the tree is grown and where its boundaries come from (Scala: HasTreeGrowth)."""


class _HasBinning(_JvmParams, trait="HasBinning"):
    """How features are binned, and the row id behind the sample and folds (Scala: HasBinning)."""


class _HasNativeResources(_JvmParams, trait="HasNativeResources"):
    """What one task's native kernels may use (Scala: HasNativeResources)."""


class _HasScoringBatch(_JvmParams, trait="HasScoringBatch"):
    """How transform feeds the native scorer (Scala: HasScoringBatch)."""


class _HasForestSettings(_JvmParams, trait="HasForestSettings"):
    """How a policy forest draws its trees: how many, which rows and features each sees, honesty, seed
    (Scala: HasForestSettings)."""


class _HasCategoricalFeatures(_JvmParams, trait="HasCategoricalFeatures"):
    """Which features are categorical, and their category order (Scala: HasCategoricalFeatures)."""

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


class _HasAipwSettings(_JvmParams, trait="HasAipwSettings", setters=True):
    """How AIPW rewards cross-fit their nuisances, and what happens to invalid rows (Scala: HasAipwSettings).
    Every stage with these settings has their setters (the model too, as in earlier releases)."""

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

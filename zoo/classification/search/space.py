"""The search space of a classifier search: what can be tuned, its default
range, and how a person fixes or narrows each part of it.

Every dimension is named like the TrainConfig field it sets ("dropout",
"learning_rate", ...). An override replaces a dimension's default:

    {"dropout": 0.2}                     a value fixes it (hp.Fixed)
    {"head": ["linear", "mlp"]}          a list makes a Choice
    {"learning_rate": (1e-4, 1e-2)}      a (min, max) tuple narrows a range
                                         (Int or Float, log scale where the default is)

On the command line the same is written `--space dropout=0.2`,
`--space head=linear,mlp`, `--space learning_rate=1e-4:1e-2`
(see `parse_override`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from zoo.classification.config import HEADS
from zoo.errors import TuningError

FIXED_FROM_CONFIG = "fixed"  # the default is hp.Fixed(the base TrainConfig's value)


@dataclass(frozen=True)
class Dimension:
    """One tunable knob.

    Args:
        kind: "str", "int" or "float": the type of its values.
        default: a list (Choice), a (min, max) tuple (range), or
            FIXED_FROM_CONFIG.
        sampling: "linear" or "log", for ranges.
        step: the step of a range; None for a continuous Float.
        at_build: declared in HyperModel.build (True) or in fit (False).
        low, high: the values allowed at all (inclusive, high=None: no bound).
    """

    kind: str
    default: object
    sampling: str = "linear"
    step: float | None = None
    at_build: bool = True
    low: float | None = None
    high: float | None = None


DIMENSIONS: dict[str, Dimension] = {
    # The backbone's default Choice is the hypermodel's `backbones` list.
    "backbone": Dimension("str", None),
    "head": Dimension("str", ["linear", "mlp"]),
    # Always declared (not under a condition on "head") so that every trial,
    # and every MLflow child run, has the same hyperparameters.
    "hidden_units": Dimension("int", [64, 128, 256, 512], sampling="log", low=1),
    "dropout": Dimension("float", (0.0, 0.5), step=0.1, low=0.0, high=0.9),
    "learning_rate": Dimension("float", (1e-4, 1e-2), sampling="log", low=1e-7, high=1.0),
    "label_smoothing": Dimension("float", [0.0, 0.1], low=0.0, high=0.5),
    # Off by default: a frozen backbone without augmentation lets every trial
    # train its head on cached features, the cheap path.
    "fine_tune_blocks": Dimension("int", FIXED_FROM_CONFIG, low=0),
    "augment": Dimension("float", FIXED_FROM_CONFIG, low=0.0, high=1.0),
    "batch_size": Dimension("int", FIXED_FROM_CONFIG, at_build=False, low=1),
    "epochs": Dimension("int", FIXED_FROM_CONFIG, at_build=False, low=1),
}


class SearchSpace:
    """The dimensions with the user's overrides applied, checked once.

    Args:
        overrides: {name: value | list | (min, max)}; see the module docstring.
        backbones: the backbones to choose from (the default of "backbone").
        base: a TrainConfig with the values of the dimensions fixed by default.

    Raises:
        TuningError: an unknown name, an empty list, a range on a text
            dimension, or a value outside what the dimension allows.
    """

    def __init__(self, overrides: Mapping | None, backbones, base):
        self.base = base
        self.overrides = dict(overrides or {})
        unknown = sorted(set(self.overrides) - set(DIMENSIONS))
        if unknown:
            raise TuningError(f"Unknown search space name(s) {', '.join(unknown)}; "
                              f"the tunable ones are {', '.join(DIMENSIONS)}.")
        if "backbone" not in self.overrides:
            self.overrides["backbone"] = list(backbones)
        for name, override in self.overrides.items():
            for value in _candidates(name, override):
                _check_value(name, value)

    def values_allowed(self, name: str) -> list:
        """The values a dimension can take, for checks (a range gives its two ends)."""
        spec = self.overrides.get(name, DIMENSIONS[name].default)
        if spec == FIXED_FROM_CONFIG:
            return [getattr(self.base, name)]
        return _candidates(name, spec)

    def tunable_names(self) -> list[str]:
        """The dimensions with more than one possible value."""
        names = []
        for name, dim in DIMENSIONS.items():
            spec = self.overrides.get(name, dim.default)
            if isinstance(spec, tuple) or (isinstance(spec, list) and len(spec) > 1):
                names.append(name)
        return names

    def declare(self, hp, name: str):
        """Declare dimension `name` in `hp` and return its value for this trial.

        Args:
            hp: keras_tuner.HyperParameters.
            name: one of DIMENSIONS.
        """
        dim = DIMENSIONS[name]
        spec = self.overrides.get(name, dim.default)
        if spec == FIXED_FROM_CONFIG:
            return hp.Fixed(name, getattr(self.base, name))
        if isinstance(spec, list):
            values = [_cast(dim, v) for v in spec]
            if len(values) == 1:
                return hp.Fixed(name, values[0])
            return hp.Choice(name, values, ordered=dim.kind != "str")
        if isinstance(spec, tuple):
            low, high = (_cast(dim, v) for v in spec)
            if dim.kind == "int":
                return hp.Int(name, low, high, sampling=dim.sampling)
            step = dim.step if (dim.step and (high - low) >= dim.step) else None
            return hp.Float(name, low, high, step=step, sampling=dim.sampling)
        return hp.Fixed(name, _cast(dim, spec))


def _candidates(name: str, spec) -> list:
    dim = DIMENSIONS[name]
    if isinstance(spec, list):
        if not spec:
            raise TuningError(f"The search space list for {name!r} is empty; "
                              "give at least one value.")
        return list(spec)
    if isinstance(spec, tuple):
        if dim.kind == "str":
            raise TuningError(f"{name!r} takes a value or a list of values, not a range "
                              f"{spec!r}.")
        if len(spec) != 2 or not all(isinstance(v, (int, float)) for v in spec) \
                or not spec[0] < spec[1]:
            raise TuningError(f"The range for {name!r} must be (min, max) with min < max. "
                              f"Received: {spec!r}")
        if dim.sampling == "log" and spec[0] <= 0:
            raise TuningError(f"{name!r} is searched on a log scale; its range must be "
                              f"above 0. Received: {spec!r}")
        return list(spec)
    return [spec]


def _cast(dim: Dimension, value):
    if dim.kind == "int":
        return int(value)
    if dim.kind == "float":
        return float(value)
    return str(value)


def _check_value(name: str, value) -> None:
    dim = DIMENSIONS[name]
    if dim.kind == "str":
        if not isinstance(value, str):
            raise TuningError(f"{name!r} takes names, not {value!r}.")
        if name == "head" and value not in HEADS:
            raise TuningError(f"head must be one of {', '.join(HEADS)}. Received: {value!r}")
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TuningError(f"{name!r} takes numbers. Received: {value!r}")
    if dim.kind == "int" and float(value) != int(value):
        raise TuningError(f"{name!r} takes whole numbers. Received: {value!r}")
    if (dim.low is not None and value < dim.low) or (dim.high is not None and value > dim.high):
        bounds = f"at least {dim.low}" + (f" and at most {dim.high}" if dim.high is not None
                                          else "")
        raise TuningError(f"{name!r} must be {bounds}. Received: {value!r}")


def parse_override(text: str) -> tuple[str, object]:
    """One `--space` argument as (name, override).

    `name=v` fixes a value, `name=a,b,c` is a list, `name=lo:hi` a range.
    Numbers become int or float; other words stay text.

    Args:
        text: e.g. "learning_rate=1e-4:1e-2".

    Raises:
        TuningError: no "=", or an unknown name.
    """
    name, sep, value = text.partition("=")
    name = name.strip().replace("-", "_")
    if not sep or not value.strip():
        raise TuningError(f"--space takes NAME=VALUE, NAME=A,B,C or NAME=MIN:MAX. "
                          f"Received: {text!r}")
    if name not in DIMENSIONS:
        raise TuningError(f"Unknown search space name {name!r}; the tunable ones are "
                          f"{', '.join(DIMENSIONS)}.")
    if ":" in value:
        low, high = value.split(":", 1)
        return name, (_number(low), _number(high))
    if "," in value:
        return name, [_word(v) for v in value.split(",") if v.strip()]
    return name, _word(value)


def _word(text: str):
    text = text.strip()
    try:
        return _number(text)
    except TuningError:
        return text


def _number(text: str):
    text = text.strip()
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        raise TuningError(f"Expected a number in a search space range, got {text!r}.") from None

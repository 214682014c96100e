"""The exceptions zoo raises on purpose.

Every one of them carries a message meant for a person: what was wrong,
which file or argument, and what to do about it. The CLI prints the message
alone (no traceback) and exits with status 2.

All of them are defined here, so that a caller writing `except` has one place
to look. Two live elsewhere: `zoo.files.DiskFullError` (an OSError that
measures the free space itself) and `zoo.tracking.runs.RunTerminated` (a
SIGTERM turned into KeyboardInterrupt, not a mistake of the caller's).
"""


class ZooError(Exception):
    """Base class of every error zoo raises on purpose."""


class UnknownBackboneError(ZooError, ValueError):
    """A backbone name that the registry does not know."""


class WeightsError(ZooError, ValueError):
    """A weights file that is missing, corrupt, or does not fit the backbone."""


class WeightsUnavailableError(WeightsError):
    """ImageNet weights are neither cached nor downloadable (usually: offline)."""


class DataError(ZooError, ValueError):
    """A data source that cannot be used: wrong layout, no images, one class..."""


# Command lines

class ArgumentError(ZooError):
    """A command-line argument that cannot work; the message names the option."""

    def __init__(self, option: str, message: str):
        super().__init__(f"argument {option}: {message}")
        self.option = option


# Other packages' internals

class CompatError(ZooError, RuntimeError):
    """An internal of another package that zoo relies on has moved."""


# Training

class CheckpointError(ZooError):
    """No intact checkpoint where one was expected, or one that does not fit."""


# Tracking

class TrackingError(ZooError, RuntimeError):
    """A tracking store, run, model version or metric that cannot be used as asked."""


# Searches

class TuningError(ZooError, ValueError):
    """A search space, tuner setting or search project that cannot be used as asked."""


class SearchFailedError(TuningError):
    """A search ran, but none of its trials succeeded; the message sums up why."""


class WorkersGoneError(SearchFailedError):
    """A chief heard from no worker for --worker-timeout seconds; the message
    names the trials that still wait and how to restart their workers."""


# Classifiers

class EvaluationError(ZooError, ValueError):
    """Data, labels or class names that do not fit the model being evaluated."""


class PredictError(ZooError, ValueError):
    """A model, input or option of `zoo predict` that cannot be used."""


# Image translation

class TranslateError(ZooError, ValueError):
    """A model, input or option of `zoo translate` that cannot be used."""

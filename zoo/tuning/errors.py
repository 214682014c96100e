"""The errors zoo's tuning code raises on purpose (see zoo.errors for the convention)."""

from zoo.errors import ZooError


class TuningError(ZooError, ValueError):
    """A search space, tuner setting or search project that cannot be used as asked."""


class SearchFailedError(TuningError):
    """A search ran, but none of its trials succeeded; the message sums up why."""


class WorkersGoneError(SearchFailedError):
    """A chief heard from no worker for --worker-timeout seconds; the message
    names the trials that still wait and how to restart their workers."""

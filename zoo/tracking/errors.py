"""The error zoo's tracking code raises on purpose (see zoo.errors for the convention)."""

from zoo.errors import ZooError


class TrackingError(ZooError, RuntimeError):
    """A tracking store, run, model version or metric that cannot be used as asked."""

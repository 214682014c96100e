"""The error of `zoo predict` and of loading a saved classifier."""

from zoo.errors import ZooError


class PredictError(ZooError, ValueError):
    """A model, input or option of `zoo predict` that cannot be used."""

"""The exceptions zoo raises on purpose.

Every one of them carries a message meant for a person: what was wrong,
which file or argument, and what to do about it. The CLI prints the message
alone (no traceback) and exits with status 2.
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

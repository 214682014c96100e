"""Where runs are stored: the tracking URI and the artifact folder beside it.

MLflow resolves a relative `sqlite:///mlflow.db` against whatever the working
directory is when the database is opened, and puts the artifacts of a new
experiment in `./mlruns` of that moment. zoo pins both to absolute paths when
it resolves the URI, so that a recipe, a later `--resume` and `zoo ui` started
from another directory all read and write the same store.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

TRACKING_URI_ENV = "MLFLOW_TRACKING_URI"
# MLflow's own default store (see `mlflow server --help`).
DEFAULT_TRACKING_URI = "sqlite:///mlflow.db"
SQLITE_PREFIX = "sqlite:///"
# The folder name `mlflow server` uses for artifacts, so that both agree.
ARTIFACTS_FOLDER = "mlartifacts"


def resolve_tracking_uri(explicit: str | os.PathLike | None = None) -> str:
    """The tracking URI a recipe or `zoo ui` should use.

    Args:
        explicit: the `--tracking-uri` argument. Wins when given; otherwise the
            MLFLOW_TRACKING_URI environment variable; otherwise
            `sqlite:///mlflow.db` in the working directory.

    Returns:
        The URI, with a relative SQLite file or a plain local folder turned
        into an absolute path (against the working directory).
    """
    if explicit is not None and os.fspath(explicit).strip():
        uri = os.fspath(explicit).strip()
    else:
        uri = os.environ.get(TRACKING_URI_ENV, "").strip() or DEFAULT_TRACKING_URI
    return absolute_store_uri(uri)


def absolute_store_uri(uri: str) -> str:
    """The same store with any relative local path made absolute.

    Args:
        uri: a tracking URI. `sqlite:///rel.db` and plain paths such as
            `mlruns` become absolute; in-memory SQLite, absolute paths and
            remote URIs (http, databricks, postgresql...) come back unchanged.
    """
    sqlite_file = sqlite_path(uri)
    if sqlite_file is not None:
        query = uri[len(SQLITE_PREFIX) + len(sqlite_file):]
        return SQLITE_PREFIX + os.path.abspath(sqlite_file) + query
    if not _has_scheme(uri):
        return os.path.abspath(uri)
    return uri


def sqlite_path(uri: str) -> str | None:
    """The database file of a `sqlite:///FILE` URI as written (maybe relative), else None.

    Args:
        uri: a tracking URI.
    """
    if not uri.startswith(SQLITE_PREFIX):
        return None
    path = uri[len(SQLITE_PREFIX):].split("?", 1)[0]
    if not path or path == ":memory:":
        return None
    return path


def default_artifact_location(uri: str) -> str | None:
    """The artifact folder for a new experiment in this store, as a file URI.

    For a SQLite store: `mlartifacts` beside the database file, so that the
    store is one self-contained folder. None for other stores, which MLflow
    (or the tracking server) places itself.

    Args:
        uri: an absolute tracking URI, as `resolve_tracking_uri` returns.
    """
    sqlite_file = sqlite_path(uri)
    if sqlite_file is None:
        return None
    return (Path(os.path.abspath(sqlite_file)).parent / ARTIFACTS_FOLDER).as_uri()


def _has_scheme(uri: str) -> bool:
    # "C:\\runs" is a Windows path, not a URI with scheme "c".
    match = re.match(r"[A-Za-z][A-Za-z0-9+.-]*:", uri)
    return match is not None and len(match.group()) > 2

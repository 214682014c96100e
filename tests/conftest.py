"""Shared test set-up: quiet TensorFlow, a private Keras cache, no network."""

import os
import socket
import tempfile

import pytest

# Before TensorFlow is imported anywhere: less log noise, and a Keras cache of
# the tests' own so that no test reads or writes the user's ~/.keras.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ["KERAS_HOME"] = tempfile.mkdtemp(prefix="zoo-test-keras-home-")

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture
def keras_home(tmp_path, monkeypatch):
    """An empty Keras cache for one test."""
    home = tmp_path / "keras_home"
    home.mkdir()
    monkeypatch.setenv("KERAS_HOME", str(home))
    return home


@pytest.fixture
def no_network(monkeypatch):
    """Fail every connection and name lookup at once, as on an offline machine."""

    def refuse(*args, **kwargs):
        raise OSError("network blocked by the test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


@pytest.fixture(autouse=True)
def isolated_mlflow_uri():
    """MLflow writes the active store into MLFLOW_TRACKING_URI; keep that from
    leaking out of one test into the next."""
    before = os.environ.get("MLFLOW_TRACKING_URI")
    yield
    if before is None:
        os.environ.pop("MLFLOW_TRACKING_URI", None)
    else:
        os.environ["MLFLOW_TRACKING_URI"] = before

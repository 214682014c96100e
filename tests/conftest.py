"""Shared test set-up: quiet TensorFlow, a private Keras cache, no network,
a scratch working folder, the recipes as modules, and the family contract's
per-family parameters."""

import importlib.util
import os
import socket
import tempfile
from pathlib import Path

import pytest

import family_contract

# Before TensorFlow is imported anywhere: less log noise, and a Keras cache of
# the tests' own so that no test reads or writes the user's ~/.keras.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ["KERAS_HOME"] = tempfile.mkdtemp(prefix="zoo-test-keras-home-")

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RECIPES = Path(REPO_ROOT) / "recipes"


def pytest_generate_tests(metafunc):
    family_contract.parametrize(metafunc)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items):
    # Before `-m 'not slow'` deselects: the family contract's slow checks.
    family_contract.mark_slow(items)


@pytest.fixture
def load_recipe():
    """load_recipe("pix2pix") -> recipes/pix2pix.py as a module (its main, parse_args...)."""
    def load(name: str):
        spec = importlib.util.spec_from_file_location(f"{name}_recipe", RECIPES / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module

    return load


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    """The current folder for the test: runs/, mlflow.db and the data and feature
    caches all land under tmp_path."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.setenv("ZOO_DATA_CACHE", str(tmp_path / "cache" / "data"))
    monkeypatch.setenv("ZOO_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path


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
def no_tuner_role(monkeypatch):
    """keras-tuner reads a process's role from the environment, and setting a
    role (zoo.tuning.distributed.configure_role) writes it there: no test
    starts with one that an earlier test left."""
    from zoo.tuning.settings import ENV_ORACLE_IP, ENV_ORACLE_PORT, ENV_TUNER_ID

    for name in (ENV_TUNER_ID, ENV_ORACLE_IP, ENV_ORACLE_PORT):
        monkeypatch.delenv(name, raising=False)


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

"""Shared set-up of the tuning tests: one feature cache for the session (the
backbone runs over digits once), stores and projects under tmp_path."""

import os

import pytest


@pytest.fixture(scope="session")
def session_cache(tmp_path_factory):
    return tmp_path_factory.mktemp("zoo-cache")


@pytest.fixture(autouse=True)
def zoo_cache_dir(session_cache, monkeypatch):
    monkeypatch.setenv("ZOO_CACHE_DIR", str(session_cache))
    return session_cache


@pytest.fixture
def store(tmp_path):
    """A SQLite tracking URI and a project directory of one test."""
    return f"sqlite:///{tmp_path}/mlflow.db", tmp_path / "project"


@pytest.fixture
def search_options(store):
    """search_options(**changes) -> SearchOptions for a tiny search in this test's store."""
    from zoo.classification.search.options import SearchOptions

    uri, project = store

    def make(**changes):
        values = dict(data="digits", backbones=["resnet50"], max_trials=3, epochs=3,
                      image_size=32, weights="none", project_dir=str(project),
                      tracking_uri=uri, retrain=False, seed=3)
        values.update(changes)
        return SearchOptions(**values)

    return make


@pytest.fixture
def children_of():
    """children_of(uri, parent_run_id) -> the parent's child runs."""
    return _children_of


def _children_of(uri, parent_id):
    from mlflow import MlflowClient

    client = MlflowClient(uri)
    experiment = client.get_run(parent_id).info.experiment_id
    return client.search_runs([experiment],
                              filter_string=f"tags.`mlflow.parentRunId` = '{parent_id}'")


@pytest.fixture
def all_runs():
    """all_runs(uri) -> every run of every experiment in the store."""
    return _all_runs


def _all_runs(uri):
    from mlflow import MlflowClient

    client = MlflowClient(uri)
    experiments = [e.experiment_id for e in client.search_experiments()]
    return client.search_runs(experiments, max_results=1000)


@pytest.fixture
def subprocess_env():
    """The environment for `python -m zoo.classification.search.cli` children of a test."""
    return _env()


def _env():
    env = dict(os.environ)
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    return env

"""What the recipe tests share: the recipes loaded as modules, and a scratch
working folder where their runs, stores and caches go."""

import importlib.util
from pathlib import Path

import pytest

RECIPES = Path(__file__).resolve().parents[2] / "recipes"


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

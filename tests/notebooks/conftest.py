"""Run a notebook at tiny settings in a scratch folder and hand back its RESULTS."""

import importlib.util
from pathlib import Path

import pytest

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"


def _runner():
    spec = importlib.util.spec_from_file_location("notebook_runner", NOTEBOOKS / "execute.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def run_notebook(tmp_path, monkeypatch):
    """run_notebook("02_cnn.ipynb") -> the notebook's RESULTS dict, after a quick run.

    Any error in any cell fails the test (nbclient raises CellExecutionError).
    """
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    runner = _runner()

    def run(name: str) -> dict:
        _, results = runner.execute(NOTEBOOKS / name, quick=True, workdir=tmp_path,
                                    timeout=600)
        return results

    return run

"""recipes/transfer_digits.py on a tiny setting: it runs and logs every run."""

import importlib.util
import os

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RECIPE = os.path.join(REPO, "recipes", "transfer_digits.py")


@pytest.mark.slow
def test_transfer_digits_runs_and_logs(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ZOO_CACHE_DIR", str(tmp_path / "cache"))
    spec = importlib.util.spec_from_file_location("transfer_digits_recipe", RECIPE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    uri = f"sqlite:///{tmp_path}/mlflow.db"
    transfer, scratch = module.main(["--pretrain-epochs", "1", "--epochs", "3", "--repeats", "1",
                                     "--per-class", "5", "--tracking-uri", uri])
    assert 0.0 <= transfer <= 1.0 and 0.0 <= scratch <= 1.0
    assert "transfer - scratch" in capsys.readouterr().out
    assert (tmp_path / "runs" / "transfer_digits" /
            "mobilenet_v3_small_digits0to4.weights.h5").is_file()

    import mlflow

    client = mlflow.MlflowClient(uri)
    experiment = client.get_experiment_by_name("transfer_digits")
    runs = client.search_runs([experiment.experiment_id])
    assert sorted(r.info.run_name for r in runs) == [
        "pretrain-0to4", "scratch-5to9-draw1", "transfer-5to9-draw1"]
    assert all(r.info.status == "FINISHED" for r in runs)
    assert all("test/accuracy" in r.data.metrics for r in runs)
    assert all("test/majority_class_accuracy" in r.data.metrics for r in runs)

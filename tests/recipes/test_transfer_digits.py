"""recipes/transfer_digits.py on a tiny setting: it runs and logs every run."""

import pytest


@pytest.mark.slow
def test_transfer_digits_runs_and_logs(workdir, load_recipe, capsys):
    tmp_path = workdir
    module = load_recipe("transfer_digits")
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

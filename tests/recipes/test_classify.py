"""recipes/classify.py end to end on a tiny setting, and what it leaves in MLflow."""

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RECIPE = os.path.join(REPO, "recipes", "classify.py")
TINY = ["--backbone", "mobilenet_v3_small", "--image-size", "32", "--epochs", "2",
        "--fine-tune-epochs", "1", "--batch-size", "64", "--weights", "none"]


def _client(uri):
    import mlflow

    mlflow.set_tracking_uri(uri)
    return mlflow.MlflowClient(uri)


def test_classify_records_a_complete_run(workdir, capsys, load_recipe):
    uri = f"sqlite:///{workdir}/mlflow.db"
    load_recipe("classify").main(TINY + ["--tracking-uri", uri, "--register", "digits_clf"])
    out = capsys.readouterr().out
    assert "Test accuracy:" in out and "MLflow run:" in out and "zoo ui" in out
    assert "majority class (" in out and "logistic regression on 8x8x3 pixels" in out

    client = _client(uri)
    run_id = out.split("MLflow run: ")[1].split()[0]
    run = client.get_run(run_id)
    assert run.info.status == "FINISHED"
    params = run.data.params
    assert params["train.backbone"] == "mobilenet_v3_small" and params["data"] == "digits"
    assert run.data.tags["zoo.recipe"] == "classify"
    # From scratch: 2 + 1 epochs, all in phase 2, one point per epoch at steps 0, 1, 2.
    for key in ("epoch/loss", "epoch/val_loss", "epoch/accuracy", "epoch/val_accuracy", "lr"):
        steps = [m.step for m in client.get_metric_history(run_id, key)]
        assert steps == list(range(len(steps))) and len(steps) >= 1, key
    # Headline scores only: no per-class metrics.
    for split in ("test", "val"):
        assert {f"{split}/accuracy", f"{split}/top_5_accuracy", f"{split}/macro_f1",
                f"{split}/majority_class_accuracy", f"{split}/logistic_accuracy"} <= set(
                    run.data.metrics)
    assert not [key for key in run.data.metrics if "precision" in key or "recall" in key]
    description = run.data.tags["mlflow.note.content"]
    assert "**digits**: mobilenet_v3_small at 32 px" in description
    assert "| majority class" in description and "models:/digits_clf/1" in description

    artifacts = {a.path for a in client.list_artifacts(run_id)}
    assert {"config.json", "class_names.json", "plots", "evaluation"} <= artifacts
    plots = {a.path for a in client.list_artifacts(run_id, "plots")}
    assert {"plots/learning_curves.png", "plots/confusion_matrix_val.png",
            "plots/misclassified_val.png"} <= plots
    tables = {a.path for a in client.list_artifacts(run_id, "evaluation")}
    assert {"evaluation/test_per_class.json", "evaluation/val_per_class.json"} <= tables

    import mlflow

    model = mlflow.keras.load_model("models:/digits_clf@candidate")
    images = np.zeros((2, 32, 32, 3), "uint8")
    assert model.predict(images, verbose=0).shape == (2, 10)
    metrics = run.data.metrics
    if metrics["val/accuracy"] > metrics["val/majority_class_accuracy"]:
        assert str(client.get_model_version_by_alias("digits_clf", "champion").version) == "1"
    else:  # 3 epochs from scratch may stay at chance level: never a champion then
        assert "majority-class" in client.get_model_version("digits_clf", "1").tags[
            "zoo.not_promoted"]
        assert "zoo.warning.val" in run.data.tags

    saved = workdir / "runs" / "classify" / "mobilenet_v3_small_digits_32px"
    assert json.loads((saved / "class_names.json").read_text()) == [str(i) for i in range(10)]
    assert (saved / "model.keras").is_file()


def test_bad_data_source_is_a_clear_error(workdir):
    result = subprocess.run([sys.executable, RECIPE, "--data", str(workdir / "missing")],
                            capture_output=True, text=True, timeout=300, cwd=workdir)
    assert result.returncode != 0
    assert "classify: error:" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.slow
def test_killed_run_resumes_into_the_same_mlflow_run(workdir):
    uri = f"sqlite:///{workdir}/mlflow.db"
    args = [sys.executable, RECIPE, *TINY, "--epochs", "4", "--fine-tune-epochs", "2",
            "--tracking-uri", uri]
    first = subprocess.Popen(args, cwd=workdir, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             text=True)
    latest = workdir / "runs" / "classify" / "mobilenet_v3_small_digits_32px" / "checkpoints" / \
        "latest"
    deadline = time.monotonic() + 400
    while not (latest.is_file() and latest.read_text().strip() >= "epoch-0002"):
        assert first.poll() is None and time.monotonic() < deadline, first.stdout.read()
        time.sleep(0.1)
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=60)

    resumed = subprocess.run(args + ["--resume"], cwd=workdir, capture_output=True, text=True,
                             timeout=600)
    assert resumed.returncode == 0, resumed.stdout[-3000:] + resumed.stderr[-3000:]
    run_id = resumed.stdout.split("MLflow run: ")[1].split()[0]
    client = _client(uri)
    assert len(client.search_runs([client.get_experiment_by_name("classify").experiment_id])) == 1
    assert client.get_run(run_id).info.status == "FINISHED"
    steps = [m.step for m in client.get_metric_history(run_id, "epoch/val_loss")]
    assert sorted(set(steps)) == list(range(max(steps) + 1))  # no gap across the kill


@pytest.mark.slow
def test_faces_from_scratch_with_the_default_flags_beats_its_baselines(
        workdir, capsys, load_recipe):
    """Offline, ImageNet weights cannot be had, so `--data faces` trains
    mobilenet_v3_small from scratch on 120 images (4 steps an epoch). Before
    precise BN its inference-mode predictions were one class (test 0.500)."""
    uri = f"sqlite:///{workdir}/mlflow.db"
    result = load_recipe("classify").main(["--data", "faces", "--tracking-uri", uri])
    out = capsys.readouterr().out
    accuracy = float(out.split("Test accuracy: ")[1].split()[0])
    assert accuracy >= 0.85, out[-3000:]
    assert "NOT BETTER THAN CHANCE" not in out
    assert result.best_epoch is not None

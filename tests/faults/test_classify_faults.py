"""recipes/classify.py under faults, end to end: a resume whose checkpoint
cannot be restored, and a tracking server that goes away mid-run and never
comes back before the run ends (its metrics and end-of-run files wait on disk
for `zoo tracking flush`)."""

import json
import os
import subprocess
import sys
import time

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RECIPE = os.path.join(REPO, "recipes", "classify.py")
TINY = ["--backbone", "mobilenet_v3_small", "--image-size", "32", "--epochs", "2",
        "--fine-tune-epochs", "1", "--batch-size", "64", "--weights", "none"]
OUTPUT = ("runs", "classify", "mobilenet_v3_small_digits_32px")


def _env(workdir):
    env = dict(os.environ, ZOO_CACHE_DIR=str(workdir / "cache"),
               PYTHONPATH=REPO + os.pathsep + os.environ.get("PYTHONPATH", ""))
    env.pop("MLFLOW_TRACKING_URI", None)
    return env


def _classify(workdir, *args, timeout=600):
    return subprocess.run([sys.executable, RECIPE, *TINY, *args], cwd=workdir,
                          capture_output=True, text=True, timeout=timeout, env=_env(workdir))


@pytest.mark.slow
def test_a_resume_whose_checkpoint_does_not_fit_leaves_the_finished_run_finished(tmp_path):
    import mlflow

    from zoo.files import file_sha256
    from zoo.training.checkpoint import MANIFEST

    uri = f"sqlite:///{tmp_path}/mlflow.db"
    first = _classify(tmp_path, "--tracking-uri", uri)
    assert first.returncode == 0, first.stderr[-3000:]
    run_id = first.stdout.split("MLflow run: ")[1].split()[0]
    client = mlflow.MlflowClient(uri)
    finished = client.get_run(run_id).info

    # The latest checkpoint now says it was written for another head: intact,
    # but it does not fit the model the resume builds.
    checkpoints = tmp_path.joinpath(*OUTPUT, "checkpoints")
    folder = checkpoints / (checkpoints / "latest").read_text().strip()
    state = json.loads((folder / "state.json").read_text())
    state["config"]["head"] = "mlp"
    (folder / "state.json").write_text(json.dumps(state))
    manifest = json.loads((folder / MANIFEST).read_text())
    manifest["state.json"] = {"size": (folder / "state.json").stat().st_size,
                              "sha256": file_sha256(folder / "state.json")}
    (folder / MANIFEST).write_text(json.dumps(manifest))

    resumed = _classify(tmp_path, "--tracking-uri", uri, "--resume")
    assert resumed.returncode != 0
    assert "does not fit the model being trained" in resumed.stderr
    assert "Traceback" not in resumed.stderr
    after = client.get_run(run_id).info
    assert (after.status, after.end_time) == ("FINISHED", finished.end_time)


@pytest.mark.slow
def test_a_damaged_latest_checkpoint_resumes_from_the_one_before_with_one_point_per_epoch(
        tmp_path):
    import mlflow

    uri = f"sqlite:///{tmp_path}/mlflow.db"
    first = _classify(tmp_path, "--tracking-uri", uri)
    assert first.returncode == 0, first.stderr[-3000:]
    run_id = first.stdout.split("MLflow run: ")[1].split()[0]
    checkpoints = tmp_path.joinpath(*OUTPUT, "checkpoints")
    latest = (checkpoints / "latest").read_text().strip()
    data = next((checkpoints / latest).glob("ckpt.data-*"))
    with open(data, "r+b") as handle:                       # cut short, as by a full disk
        handle.truncate(data.stat().st_size // 2)

    resumed = _classify(tmp_path, "--tracking-uri", uri, "--resume")
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert "Traceback" not in resumed.stderr
    assert f"{latest} is damaged" in resumed.stderr
    assert f"MLflow run: {run_id}" in resumed.stdout
    client = mlflow.MlflowClient(uri)
    assert client.get_run(run_id).info.status == "FINISHED"
    steps = sorted(m.step for m in client.get_metric_history(run_id, "epoch/loss"))
    assert steps == list(range(3))                          # no gap, no epoch twice


@pytest.mark.slow
def test_the_server_goes_away_mid_run_the_model_is_saved_and_flush_sends_the_rest(
        tmp_path, mlflow_server):
    server = mlflow_server
    server.start()
    args = [sys.executable, RECIPE, *TINY, "--epochs", "4", "--fine-tune-epochs", "2",
            "--tracking-uri", server.uri]
    env = dict(_env(tmp_path), MLFLOW_HTTP_REQUEST_TIMEOUT="5")
    process = subprocess.Popen(args, cwd=tmp_path, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, env=env)
    output = tmp_path.joinpath(*OUTPUT)
    latest = output / "checkpoints" / "latest"
    try:
        deadline = time.monotonic() + 400
        while not (latest.is_file() and latest.read_text().strip() >= "epoch-0002"):
            assert process.poll() is None and time.monotonic() < deadline, process.stderr.read()
            time.sleep(0.1)
        server.stop()                                          # gone, for good
        started = time.monotonic()
        out, err = process.communicate(timeout=600)
    finally:
        if process.poll() is None:
            process.kill()
        server.stop()
    assert process.returncode == 0, err[-3000:]
    assert time.monotonic() - started < 300
    assert "Traceback" not in err and "Traceback" not in out
    assert (output / "model.keras").is_file() and (output / "class_names.json").is_file()
    assert f"The model is saved: {(output / 'model.keras').resolve()}" in out
    assert "zoo tracking flush" in out
    assert "Not sent yet (kept on disk): learning curves, val evaluation" in out
    assert "MLflow model" in out.split("Not sent yet")[1].splitlines()[0]
    spools = list(output.glob("unsent-metrics-*.jsonl"))
    assert len(spools) == 1 and str(spools[0].resolve()) in out
    run_id = out.split("MLflow run: ")[1].split()[0]

    server.start()
    try:
        flushed = subprocess.run([sys.executable, "-m", "zoo", "tracking", "flush",
                                  str(spools[0])], capture_output=True, text=True,
                                 timeout=300, env=_env(tmp_path), cwd=tmp_path)
        assert flushed.returncode == 0, flushed.stderr[-3000:]
        import mlflow

        client = mlflow.MlflowClient(server.uri)
        for key in ("epoch/loss", "epoch/val_loss", "lr"):
            steps = sorted(m.step for m in client.get_metric_history(run_id, key))
            assert steps == list(range(6)), key                # no gap, no duplicate
        assert "val/accuracy" in client.get_run(run_id).data.metrics
        assert client.get_run(run_id).info.status == "FINISHED"
        # The files of the run's end waited on disk too, and arrived with the flush.
        artifacts = {item.path for item in client.list_artifacts(run_id)}
        assert {"plots", "evaluation", "model"} <= artifacts, artifacts
        assert "mlflow.note.content" in client.get_run(run_id).data.tags
    finally:
        server.stop()
    assert not spools[0].exists()

"""A tracking server that is away: at the start of a run (a one-line error, no
run started), during fit() (MlflowMetricsCallback does not wait and loses
nothing) and at the end of a run (the run's files wait on disk and reach it
with `zoo tracking flush`)."""

import os
import subprocess
import sys
import time
import warnings

import numpy as np
import pytest

from zoo.tracking import TrackingError, require_reachable, tracked_run
from zoo.tracking.offline import BestEffort
from zoo.tracking.spool import MetricSpool, spool_path

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture
def store(tmp_path, monkeypatch):
    import mlflow

    uri = f"sqlite:///{tmp_path}/mlflow.db"
    previous = mlflow.get_tracking_uri()
    monkeypatch.setenv("MLFLOW_TRACKING_URI", previous)  # set_tracking_uri changes it
    yield uri, mlflow.MlflowClient(uri)
    while mlflow.active_run():
        mlflow.end_run()
    mlflow.set_tracking_uri(previous)


@pytest.fixture
def fast_failing_requests(monkeypatch):
    """Requests to a server that is gone fail at once instead of after retries."""
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "2")


def _steps(client, run_id, key):
    return [(m.step, m.value) for m in
            sorted(client.get_metric_history(run_id, key), key=lambda m: m.step)]


# -- at the start ----------------------------------------------------------

def test_a_server_that_is_down_at_the_start_is_one_error_naming_it_and_what_to_do(
        closed_port, monkeypatch):
    import mlflow

    gone = f"http://127.0.0.1:{closed_port}"
    monkeypatch.delenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", raising=False)
    started = time.monotonic()
    with pytest.raises(TrackingError) as caught:
        with tracked_run("faults", tracking_uri=gone):
            pytest.fail("the block must not run: no run was started")
    assert time.monotonic() - started < 10                 # one brief try, no retries
    message = str(caught.value)
    assert gone in message and "--tracking-uri" in message and "mlflow server" in message
    assert "\n" not in message
    assert mlflow.active_run() is None
    # The probe's own limits do not stay behind for the rest of the process.
    assert "MLFLOW_HTTP_REQUEST_MAX_RETRIES" not in os.environ


def test_a_local_store_is_not_probed(tmp_path):
    require_reachable(f"sqlite:///{tmp_path}/absent/mlflow.db")   # no error, nothing created
    assert not (tmp_path / "absent").exists()


@pytest.mark.parametrize("command", [
    [os.path.join(REPO, "recipes", "classify.py"), "--image-size", "32", "--epochs", "1"],
    ["-m", "zoo", "tune", "--data", "digits", "--max-trials", "1", "--epochs", "1"],
])
def test_the_recipes_exit_with_one_line_and_no_traceback_before_reading_data(
        command, tmp_path, closed_port):
    gone = f"http://127.0.0.1:{closed_port}"
    env = dict(os.environ, PYTHONPATH=REPO + os.pathsep + os.environ.get("PYTHONPATH", ""),
               ZOO_CACHE_DIR=str(tmp_path / "cache"))
    result = subprocess.run([sys.executable, *command, "--tracking-uri", gone], cwd=tmp_path,
                            capture_output=True, text=True, timeout=300, env=env)
    assert result.returncode in (1, 2), result.stdout[-2000:]
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if gone in line]
    assert len(errors) == 1 and "does not answer" in errors[0], result.stderr[-2000:]
    assert not (tmp_path / "runs").exists() and not (tmp_path / "mlflow.db").exists()


# -- during fit() ------------------------------------------------------------

@pytest.mark.slow
def test_the_keras_callback_never_waits_and_its_metrics_are_flushed_later(
        store, tmp_path, closed_port, small_regression, monkeypatch, caplog, capsys):
    import keras
    import mlflow

    # Retried requests, without waits: urllib3 would log each retry.
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "2")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR", "0")

    from zoo.cli import main
    from zoo.tracking import MlflowMetricsCallback

    uri, client = store
    with tracked_run("faults", tracking_uri=uri) as run:
        run_id = run.info.run_id
    make_model, make_data = small_regression
    model, data = make_model(), make_data()
    gone = f"http://127.0.0.1:{closed_port}"
    callback = MlflowMetricsCallback(run_id=run_id, client=mlflow.MlflowClient(gone),
                                     spool_folder=tmp_path / "spool")

    class Clock(keras.callbacks.Callback):
        """When Keras reached it at each epoch's end; one before, one after the callback."""

        def __init__(self):
            super().__init__()
            self.times = []

        def on_epoch_end(self, epoch, logs=None):
            self.times.append(time.monotonic())

    before, after = Clock(), Clock()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.fit(data, validation_data=data, epochs=5, verbose=0,
                  callbacks=[before, callback, after])
    epoch_ends = [end - start for start, end in zip(before.times, after.times)]
    assert len(epoch_ends) == 5 and max(epoch_ends) < 0.5     # no epoch waited on the server
    assert len([w for w in caught if "cannot take run" in str(w.message)]) == 1
    assert callback.unsent == 5
    path = spool_path(tmp_path / "spool", run_id)
    assert f"zoo tracking flush {path.resolve()}" in caplog.text
    assert "Traceback" not in caplog.text and "Retrying" not in caplog.text   # said once

    assert main(["tracking", "flush", str(path), "--tracking-uri", uri]) == 0
    assert "sent 5 records" in capsys.readouterr().out
    for key in ("epoch/loss", "epoch/val_loss", "lr"):
        assert [step for step, _ in _steps(client, run_id, key)] == list(range(5)), key
    assert not path.exists()


# -- at the end --------------------------------------------------------------

def test_end_of_run_files_wait_on_disk_and_reach_the_run_with_flush(
        store, tmp_path, closed_port, small_regression, fast_failing_requests, capsys):
    import mlflow

    from zoo.cli import main
    from zoo.tracking import log_keras_model, log_plot
    from zoo.tracking.offline import files_folder

    uri, client = store
    gone = f"http://127.0.0.1:{closed_port}"
    model = small_regression[0]()
    example = np.ones((2, 4), "float32")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with tracked_run("faults", tracking_uri=uri) as run:
            run_id = run.info.run_id
            spool = MetricSpool.for_run(tmp_path, run_id, tracking_uri=gone, retry_seconds=0.2)
            spool.log_metrics({"val/accuracy": 0.75})
            mlflow.set_tracking_uri(gone)                  # the server goes away here
            steps = BestEffort(spool)
            steps("report", mlflow.log_text, "accuracy 0.75", "evaluation/val.txt")
            figure = _figure()
            steps("learning curves", log_plot, figure, "learning_curves.png")
            info = steps("MLflow model", log_keras_model, model, example)
            steps("run description", mlflow.set_tag, "mlflow.note.content", "**toy** run")
            version = steps("registered version", mlflow.register_model, "runs:/x/model",
                            "toy", keep=False)
            unsent = spool.close(wait_seconds=5)
    assert (info, version) == (None, None)
    assert steps.queued == ["report", "learning curves", "MLflow model", "run description"]
    assert steps.skipped == ["registered version"]
    assert len([w for w in caught if "rest of the run's files" in str(w.message)]) == 1
    assert unsent == 1 + 3 + 1                  # the metrics, 3 file records, 1 tag
    assert mlflow.active_run() is None and mlflow.get_tracking_uri() == gone
    assert files_folder(spool.path).is_dir()

    # The server is back (here: the same store, reached directly).
    assert main(["tracking", "flush", str(spool.path), "--tracking-uri", uri]) == 0
    assert "sent 6 records" in capsys.readouterr().out   # and the run's FINISHED status
    finished = client.get_run(run_id)
    assert finished.info.status == "FINISHED"
    assert finished.data.metrics["val/accuracy"] == 0.75
    assert finished.data.tags["mlflow.note.content"] == "**toy** run"
    files = {item.path for item in client.list_artifacts(run_id)}
    assert {"evaluation", "plots", "model"} <= files
    assert [item.path for item in client.list_artifacts(run_id, "plots")] == \
        ["plots/learning_curves.png"]
    text = client.download_artifacts(run_id, "evaluation/val.txt", str(tmp_path))
    assert open(text).read() == "accuracy 0.75"
    mlflow.set_tracking_uri(uri)
    reloaded = mlflow.keras.load_model(f"runs:/{run_id}/model")
    np.testing.assert_allclose(reloaded.predict(example, verbose=0),
                               model.predict(example, verbose=0), rtol=1e-6)
    assert not spool.path.exists() and not files_folder(spool.path).exists()


def _figure():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots()
    axes.plot([1, 0.5, 0.25])
    return figure

"""Faults of the tracking server: a resume that fails before training leaves
the run as it was; metrics wait on disk while the server is away and reach
the run, in order and without a gap, when it is back or with `zoo tracking
flush`; the end of a run does not fail for want of a server."""

import os
import time
import warnings

import pytest

from zoo.training.checkpoint import CheckpointError
from zoo.tracking import tracked_run
from zoo.tracking.flush import flush_spool
from zoo.tracking.spool import MetricSpool, spool_path


@pytest.fixture
def store(tmp_path):
    import mlflow

    uri = f"sqlite:///{tmp_path}/mlflow.db"
    yield uri, mlflow.MlflowClient(uri)
    while mlflow.active_run():
        mlflow.end_run()


def _steps(client, run_id, key):
    return [(m.step, m.value) for m in
            sorted(client.get_metric_history(run_id, key), key=lambda m: m.step)]


# -- a resume that fails before training ---------------------------------

def test_a_resume_that_fails_before_training_keeps_a_finished_run_finished(store):
    uri, client = store
    with tracked_run("faults", tracking_uri=uri) as run:
        run_id = run.info.run_id
    finished = client.get_run(run_id).info
    assert finished.status == "FINISHED"

    with pytest.raises(CheckpointError):
        with tracked_run("faults", tracking_uri=uri, run_id=run_id):
            raise CheckpointError("Checkpoint epoch-0003 does not fit the model being trained")
    after = client.get_run(run_id).info
    assert (after.status, after.end_time) == ("FINISHED", finished.end_time)
    artifacts = [item.path for item in client.list_artifacts(run_id)]
    assert "traceback.txt" not in artifacts


def test_a_resume_that_fails_after_training_started_is_failed(store, tmp_path):
    uri, client = store
    with tracked_run("faults", tracking_uri=uri) as run:
        run_id = run.info.run_id
    with pytest.raises(RuntimeError):
        with tracked_run("faults", tracking_uri=uri, run_id=run_id):
            spool = MetricSpool.for_run(tmp_path, run_id)
            spool.log_metrics({"epoch/loss": 0.5}, step=3)
            spool.close()
            raise RuntimeError("diverged")
    assert client.get_run(run_id).info.status == "FAILED"
    assert _steps(client, run_id, "epoch/loss") == [(3, 0.5)]


# -- a server that is not there -------------------------------------------

def test_metrics_for_a_server_that_never_answers_wait_on_disk_and_flush_later(
        store, tmp_path, capsys, closed_port):
    uri, client = store
    with tracked_run("faults", tracking_uri=uri) as run:
        run_id = run.info.run_id
    gone = f"http://127.0.0.1:{closed_port}"             # nothing listens there
    os.environ.update(MLFLOW_HTTP_REQUEST_MAX_RETRIES="0", MLFLOW_HTTP_REQUEST_TIMEOUT="2")
    try:
        spool = MetricSpool.for_run(tmp_path, run_id, tracking_uri=gone, retry_seconds=0.2)
        started = time.monotonic()
        with pytest.warns(UserWarning, match="cannot take run") as caught:
            for epoch in range(6):
                spool.log_metrics({"epoch/loss": 1.0 / (epoch + 1), "lr": 0.1}, step=epoch)
                time.sleep(0.1)
            unsent = spool.close(wait_seconds=5)
        assert time.monotonic() - started < 10             # training never waited
        assert len([w for w in caught if "cannot take run" in str(w.message)]) == 1
        spool.record_status("FINISHED")
    finally:
        for name in ("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "MLFLOW_HTTP_REQUEST_TIMEOUT"):
            os.environ.pop(name, None)
    assert unsent == 6
    path = spool_path(tmp_path, run_id)
    assert path.is_file() and client.get_metric_history(run_id, "epoch/loss") == []

    # The server "comes back" (here: the same store, reached directly).
    from zoo.cli import main

    assert main(["tracking", "flush", str(path), "--tracking-uri", uri]) == 0
    assert "sent 7 records" in capsys.readouterr().out
    assert [step for step, _ in _steps(client, run_id, "epoch/loss")] == list(range(6))
    assert [value for _, value in _steps(client, run_id, "epoch/loss")] == \
        [1.0 / (epoch + 1) for epoch in range(6)]
    assert client.get_run(run_id).info.status == "FINISHED"
    assert not path.exists()


def test_a_spool_left_by_an_earlier_attempt_is_sent_first_by_the_next(store, tmp_path):
    uri, client = store
    with tracked_run("faults", tracking_uri=uri) as run:
        run_id = run.info.run_id
    path = spool_path(tmp_path, run_id)
    path.write_text(f'{{"run_id": "{run_id}", "tracking_uri": "{uri}"}}\n'
                    '{"step": 0, "timestamp": 1, "metrics": {"epoch/loss": 0.9}}\n'
                    '{"status": "KILLED", "end_time": 2}\n'
                    '{"step": 1, "timestam')                # cut short by a crash
    with pytest.warns(UserWarning, match="line 4, was cut short"):
        spool = MetricSpool.for_run(tmp_path, run_id, tracking_uri=uri)
    spool.log_metrics({"epoch/loss": 0.8}, step=1)
    assert spool.close() == 0 and not path.exists()
    assert _steps(client, run_id, "epoch/loss") == [(0, 0.9), (1, 0.8)]
    assert client.get_run(run_id).info.status == "FINISHED"   # the old KILLED was dropped


def test_flushing_to_a_server_that_is_still_away_keeps_the_file(store, tmp_path, closed_port):
    from zoo.tracking import TrackingError

    uri, client = store
    path = tmp_path / "unsent-metrics-x.jsonl"
    gone = f"http://127.0.0.1:{closed_port}"
    path.write_text(f'{{"run_id": "x", "tracking_uri": "{gone}"}}\n'
                    '{"step": 0, "timestamp": 1, "metrics": {"loss": 1.0}}\n')
    os.environ.update(MLFLOW_HTTP_REQUEST_MAX_RETRIES="0")
    try:
        with pytest.raises(TrackingError, match="The file is kept"):
            flush_spool(path)
    finally:
        os.environ.pop("MLFLOW_HTTP_REQUEST_MAX_RETRIES", None)
    assert path.is_file()


# -- a real server, stopped and started again mid-run ----------------------

@pytest.mark.slow
def test_training_goes_on_while_the_server_is_away_and_the_history_has_no_gap(
        tmp_path, caplog, mlflow_server, small_regression):
    from zoo.training import TrainingLoop, new_state
    from zoo.training.checkpoint import Checkpointer

    _regression, _data = small_regression
    server = mlflow_server
    server.start()
    epochs = 8
    timings = []
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with tracked_run("faults", tracking_uri=server.uri) as run:
                run_id = run.info.run_id
                spool = MetricSpool.for_run(tmp_path / "out", run_id, retry_seconds=0.5)

                def on_epoch_end(epoch, logs):
                    began = time.monotonic()
                    spool.log_metrics({f"epoch/{k}": v for k, v in logs.items()}, step=epoch)
                    timings.append(time.monotonic() - began)
                    if epoch == 2:
                        server.stop()                          # the server goes away
                    if epoch == 3:
                        # Epochs take milliseconds here: the outage lasts until
                        # the sender has met it, as a real one would.
                        deadline = time.monotonic() + 60
                        while spool.warnings == 0 and time.monotonic() < deadline:
                            time.sleep(0.1)
                    if epoch == 5:
                        server.start()                         # and comes back

                import keras

                model = _regression()
                loop = TrainingLoop(new_state(),
                                    checkpointer=Checkpointer(tmp_path / "out" / "ckpt"),
                                    callbacks=[keras.callbacks.LambdaCallback(
                                        on_epoch_end=on_epoch_end)], verbose=0)
                data = _data()
                loop.run(model, lambda epoch: data, data, epochs)
                unsent = spool.close()
    finally:
        server.stop()
    assert unsent == 0 and max(timings) < 1.0                  # training never waited
    assert Checkpointer(tmp_path / "out" / "ckpt").latest().name == f"epoch-{epochs:04d}"
    assert any("cannot take run" in str(w.message) for w in caught)
    assert "Traceback" not in caplog.text

    server.start()
    try:
        import mlflow

        client = mlflow.MlflowClient(server.uri)
        for key in ("epoch/loss", "epoch/val_loss"):
            assert [m.step for m in sorted(client.get_metric_history(run_id, key),
                                           key=lambda m: m.step)] == list(range(epochs)), key
        assert client.get_run(run_id).info.status == "FINISHED"
    finally:
        server.stop()
    assert not spool_path(tmp_path / "out", run_id).exists()


def test_disk_full_while_spooling_metrics_is_an_error_naming_the_file(store, tmp_path,
                                                                      monkeypatch):
    from zoo.files import DiskFullError

    uri, client = store
    with tracked_run("faults", tracking_uri=uri) as run:
        spool = MetricSpool.for_run(tmp_path, run.info.run_id, tracking_uri=uri)
        spool.log_metrics({"loss": 1.0}, step=0)

        def disk_full(fd):
            raise OSError(28, "No space left on device")

        monkeypatch.setattr(os, "fsync", disk_full)
        with pytest.raises(DiskFullError, match="unsent-metrics-.*needs about"):
            spool.log_metrics({"loss": 0.5}, step=1)
        monkeypatch.undo()
        assert spool.close() == 0
    assert _steps(client, run.info.run_id, "loss") == [(0, 1.0)]

"""A chief never waits forever: zoo's oracle service (serve_oracle), in one
process, against keras-tuner's own gRPC client playing the worker."""

import threading
import time

import pytest


@pytest.fixture
def oracle(tmp_path):
    """A keras-tuner oracle with a project and a one-number space, up to 2 trials."""
    import keras
    import keras_tuner

    def build(hp):
        rate = hp.Float("learning_rate", 1e-4, 1e-2, sampling="log")
        model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
        model.compile(keras.optimizers.SGD(rate), "mse")
        return model

    tuner = keras_tuner.RandomSearch(build, objective="val_loss", max_trials=2,
                                     max_consecutive_failed_trials=1,
                                     directory=str(tmp_path), project_name="search")
    return tuner.oracle


@pytest.fixture
def chief(oracle, monkeypatch):
    """chief(**serve_options) -> (worker client, outcome): the oracle served in a
    thread on a free loopback port; outcome fills with "returned" or "error"
    and "seconds" when the service ends."""
    from keras_tuner.src.distribute.oracle_client import OracleClient

    from zoo.tuning.distributed import configure_role, free_port, serve_oracle

    def start(**options):
        monkeypatch.delenv("KERASTUNER_TUNER_ID", raising=False)
        configure_role("worker", 0, port=free_port())  # the address both sides read
        outcome = {}

        def serve():
            started = time.monotonic()
            try:
                serve_oracle(oracle, poll=0.1, **options)
                outcome["returned"] = True
            except BaseException as exc:  # noqa: BLE001 - the test inspects it
                outcome["error"] = exc
            outcome["seconds"] = time.monotonic() - started

        thread = threading.Thread(target=serve, daemon=True)
        thread.start()
        outcome["thread"] = thread
        return OracleClient(oracle), outcome

    yield start
    for name in ("KERASTUNER_TUNER_ID", "KERASTUNER_ORACLE_IP", "KERASTUNER_ORACLE_PORT"):
        monkeypatch.delenv(name, raising=False)


def _wait(outcome, seconds):
    outcome["thread"].join(seconds)
    assert not outcome["thread"].is_alive(), f"the chief still waits after {seconds} s"


def test_a_chief_whose_worker_vanished_mid_trial_ends_naming_the_trial_and_the_restart(chief):
    from zoo.errors import WorkersGoneError

    client, outcome = chief(worker_timeout=1.5)
    trial = client.create_trial("tuner0")
    assert trial.status == "RUNNING"
    _wait(outcome, 30)  # the worker is "gone": it never calls again
    error = outcome.get("error")
    assert isinstance(error, WorkersGoneError), outcome
    assert 1.5 <= outcome["seconds"] < 15
    message = str(error)
    assert "No worker has reached the oracle on 127.0.0.1:" in message
    assert f"trial {trial.trial_id} (worker tuner0)" in message
    assert "--project-dir" in message and "`zoo tune --worker 0 ...`" in message


def test_a_chief_that_no_worker_ever_reached_ends_at_its_bound(chief):
    from zoo.errors import WorkersGoneError

    _, outcome = chief(worker_timeout=1.0)
    _wait(outcome, 30)
    assert isinstance(outcome.get("error"), WorkersGoneError), outcome
    assert "No worker reached the oracle on 127.0.0.1:" in str(outcome["error"])
    assert "within 1 s" in str(outcome["error"])


def test_a_training_worker_keeps_its_chief_waiting_and_the_search_ends_normally(chief):
    from zoo.tuning.distributed import reporting_alive

    # A bound 15 heartbeats long: a loaded machine (the suite runs on two
    # workers) may hold a heartbeat back by a second, not by the whole bound.
    client, outcome = chief(worker_timeout=3.0)
    trial = client.create_trial("tuner0")
    with reporting_alive(client, every=0.2):
        time.sleep(9.0)  # three bounds without a call of the trial's own
        assert outcome["thread"].is_alive(), outcome
    client.update_trial(trial.trial_id, {"val_loss": 0.5}, step=0)
    trial.status = "COMPLETED"
    client.end_trial(trial)
    assert client.create_trial("tuner0").status == "RUNNING"  # the second of two trials
    second = client.create_trial("tuner0")
    client.update_trial(second.trial_id, {"val_loss": 0.25}, step=0)
    second.status = "COMPLETED"
    client.end_trial(second)
    assert client.create_trial("tuner0").status == "STOPPED"
    _wait(outcome, 30)
    assert outcome.get("returned"), outcome


def test_an_oracle_that_fails_answering_a_worker_ends_the_chief_at_once(chief):
    """keras-tuner's limit of failed trials in a row raises inside the
    service: the worker gets the error, and the chief stops waiting."""
    import grpc

    client, outcome = chief(worker_timeout=120)
    trial = client.create_trial("tuner0")
    trial.status = "FAILED"
    trial.message = "RuntimeError: out of memory"
    with pytest.raises(grpc.RpcError):
        client.end_trial(trial)  # max_consecutive_failed_trials=1
    _wait(outcome, 30)
    error = outcome.get("error")
    assert isinstance(error, RuntimeError), outcome
    assert str(error).startswith("Number of consecutive failures exceeded the limit")
    assert outcome["seconds"] < 30


def test_a_port_another_chief_holds_is_one_clear_error(oracle, monkeypatch):
    """Two chiefs never share a port (gRPC would otherwise let both listen,
    and a worker could join either search)."""
    import socket

    from zoo.tuning.distributed import configure_role, serve_oracle
    from zoo.errors import TuningError

    with socket.socket() as holder:
        holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)  # as a gRPC server does
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        monkeypatch.delenv("KERASTUNER_TUNER_ID", raising=False)
        configure_role("chief", port=port)
        try:
            with pytest.raises(TuningError, match=f"cannot listen on 127.0.0.1:{port}.*"
                                                  "--oracle-port"):
                serve_oracle(oracle, worker_timeout=1)
        finally:
            configure_role("single")

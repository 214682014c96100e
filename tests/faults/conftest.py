"""Shared by the fault tests: a real `mlflow server` to stop and start again,
and a model small enough to train for a few epochs in a second."""

import os
import socket
import subprocess
import sys
import time

import numpy as np
import pytest


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class _Server:
    """`mlflow server` on 127.0.0.1, stopped and started again on the same port and store."""

    def __init__(self, folder):
        self.folder = folder
        self.port = free_port()
        self.uri = f"http://127.0.0.1:{self.port}"
        self.process = None

    def start(self, timeout=120):
        import requests

        self.process = subprocess.Popen(
            [sys.executable, "-m", "mlflow", "server", "--host", "127.0.0.1",
             "--port", str(self.port), "--workers", "1",
             "--backend-store-uri", f"sqlite:///{self.folder}/server.db",
             "--artifacts-destination", str(self.folder / "artifacts")],
            cwd=self.folder, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if requests.get(f"{self.uri}/health", timeout=2).ok:
                    return
            except requests.RequestException:
                time.sleep(0.5)
        self.stop()
        pytest.fail(f"mlflow server did not start on {self.uri}")

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, 15)
            self.process.wait(30)
        self.process = None


@pytest.fixture
def closed_port():
    """A port on 127.0.0.1 where nothing listens: a tracking server that is gone."""
    return free_port()


@pytest.fixture
def mlflow_server(tmp_path):
    """An `mlflow server` on 127.0.0.1 with its store in tmp_path; call .start() and .stop()."""
    server = _Server(tmp_path)
    yield server
    server.stop()


@pytest.fixture
def small_regression():
    """(model maker, dataset maker) of a regression that trains an epoch in milliseconds."""
    return _regression, _data


def _regression():
    import keras

    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8), keras.layers.Dense(1)])
    model.compile(keras.optimizers.Adam(1e-2), "mse")
    return model


def _data():
    import tensorflow as tf

    x = np.random.default_rng(0).normal(size=(32, 4)).astype("float32")
    return tf.data.Dataset.from_tensor_slices((x, x.sum(1, keepdims=True))).batch(16)

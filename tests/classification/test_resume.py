"""A run killed with SIGKILL resumes from its last epoch and ends where an
uninterrupted run with the same seed ends."""

import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

from zoo.classification import FeatureCache, TrainConfig, train_classifier

HERE = os.path.dirname(os.path.abspath(__file__))
CONFIG = dict(backbone="mobilenet_v3_small", image_size=32, weights=None, epochs=3,
              batch_size=16, fine_tune_blocks=2, fine_tune_epochs=3, patience=10,
              learning_rate=1e-2)

DRIVER = textwrap.dedent(
    """
    import sys, time
    sys.path.insert(0, {here!r})
    from conftest import colour_dataset
    from zoo.classification import FeatureCache, TrainConfig, train_classifier
    train, _, _ = colour_dataset(48, seed=0)
    val, _, _ = colour_dataset(24, seed=1)
    config = TrainConfig(**{config!r})
    # Slow epochs down so that the parent can kill the run mid-way.
    train_classifier(config, train, val, 3, checkpoint_dir={ckpt!r},
                     feature_cache=FeatureCache({cache!r}), verbose=0,
                     extra_state={{"run_id": "run-123"}},
                     on_epoch_end=lambda epoch, logs, phase: time.sleep(1.0))
    print("finished")
    """
)


def _data():
    sys.path.insert(0, HERE)
    from conftest import colour_dataset

    return colour_dataset(48, seed=0)[0], colour_dataset(24, seed=1)[0]


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("uninterrupted")
    train, val = _data()
    return train_classifier(TrainConfig(**CONFIG), train, val, 3, checkpoint_dir=tmp / "ckpt",
                            feature_cache=FeatureCache(tmp / "cache"), verbose=0)


def _kill_after(ckpt, cache, epochs_done, timeout=300):
    script = DRIVER.format(here=HERE, config=CONFIG, ckpt=str(ckpt), cache=str(cache))
    process = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    latest = ckpt / "latest"
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            if latest.is_file() and latest.read_text().strip() >= f"epoch-{epochs_done:04d}":
                break
            if process.poll() is not None:
                raise AssertionError(f"training ended before the kill: {process.stderr.read()}")
            time.sleep(0.05)
        else:
            raise AssertionError("no checkpoint appeared in time")
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == -signal.SIGKILL
    return json.loads((ckpt / latest.read_text().strip() / "state.json").read_text())


@pytest.mark.slow
@pytest.mark.parametrize("epochs_done, phase", [(2, 1), (4, 2)])
def test_resume_after_sigkill_matches_an_uninterrupted_run(tmp_path, uninterrupted, epochs_done,
                                                           phase):
    state = _kill_after(tmp_path / "ckpt", tmp_path / "cache", epochs_done)
    assert state["phase"] == phase and state["epoch"] >= epochs_done
    assert state["extra"]["run_id"] == "run-123"

    train, val = _data()
    resumed = train_classifier(TrainConfig(**CONFIG), train, val, 3,
                               checkpoint_dir=tmp_path / "ckpt", resume=True,
                               feature_cache=FeatureCache(tmp_path / "cache"), verbose=0)
    assert resumed.resumed_from == state["epoch"]
    assert resumed.state["extra"]["run_id"] == "run-123"
    assert resumed.phase_boundary == uninterrupted.phase_boundary == 3
    for key in ("loss", "val_loss", "val_accuracy", "lr"):
        np.testing.assert_allclose(resumed.history[key], uninterrupted.history[key],
                                   rtol=1e-3, atol=1e-5, err_msg=key)
    images = np.random.default_rng(9).integers(0, 256, (4, 32, 32, 3), dtype=np.uint8)
    np.testing.assert_allclose(resumed.model.predict(images, verbose=0),
                               uninterrupted.model.predict(images, verbose=0),
                               rtol=1e-3, atol=1e-4)


def test_resume_without_checkpoint_starts_fresh(tmp_path):
    train, val = _data()
    config = TrainConfig(**{**CONFIG, "epochs": 1, "fine_tune_blocks": 0})
    result = train_classifier(config, train, val, 3, checkpoint_dir=tmp_path / "none",
                              resume=True, feature_cache=FeatureCache(tmp_path / "c"), verbose=0)
    assert result.resumed_from is None and len(result.history["loss"]) == 1

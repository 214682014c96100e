"""A Pix2Pix run killed with SIGKILL in the middle of an epoch resumes from
its last checkpoint and ends with exactly the weights of a run that never
stopped: both networks, both optimizers (so the learning-rate schedule),
the dropout random state and the epoch's data order and jitter."""

import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

CONFIG = dict(image_size=32, epochs=2, decay_epochs=1, ngf=8, ndf=8, seed=5)
PAIRS = 24

DRIVER = textwrap.dedent(
    """
    import os, sys, time
    import keras
    from zoo.data.pairs import load_pairs
    from zoo.gan.pix2pix.training import Pix2PixConfig, train_pix2pix

    class Stall(keras.callbacks.Callback):
        # Mark the middle of the second epoch, then wait there to be killed.
        def on_epoch_begin(self, epoch, logs=None):
            self.epoch = epoch

        def on_train_batch_end(self, batch, logs=None):
            if self.epoch == 1 and batch == {pairs} // 2:
                open({marker!r}, "w").close()
                time.sleep(600)

    data = load_pairs("edges2photos", 32, augment=False, shuffle=False)
    train_pix2pix(Pix2PixConfig(**{config!r}), data.train.take({pairs}), data.test.take(4),
                  checkpoint_dir={ckpt!r}, callbacks=[Stall()], verbose=0)
    """
)


def train(ckpt, resume=False):
    from zoo.data.pairs import load_pairs
    from zoo.gan.pix2pix.training import Pix2PixConfig, train_pix2pix

    data = load_pairs("edges2photos", 32, augment=False, shuffle=False)
    return train_pix2pix(Pix2PixConfig(**CONFIG), data.train.take(PAIRS), data.test.take(4),
                         checkpoint_dir=ckpt, resume=resume, verbose=0)


def weights(result):
    model = result.model
    return (model.generator.get_weights() + model.discriminator.get_weights()
            + [v.numpy() for v in model.g_optimizer.variables]
            + [v.numpy() for v in model.d_optimizer.variables])


@pytest.mark.slow
def test_sigkill_mid_epoch_then_resume_ends_with_the_uninterrupted_weights(tmp_path):
    marker = tmp_path / "mid-epoch"
    ckpt = tmp_path / "killed"
    script = DRIVER.format(config=CONFIG, pairs=PAIRS, marker=str(marker), ckpt=str(ckpt))
    process = subprocess.Popen([sys.executable, "-c", script], stderr=subprocess.PIPE,
                               text=True, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})
    try:
        deadline = time.monotonic() + 300
        while not marker.exists():
            assert process.poll() is None, f"the run ended before the kill: {process.stderr.read()}"
            assert time.monotonic() < deadline, "the run never reached the second epoch"
            time.sleep(0.05)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert (ckpt / "latest").read_text().strip() == "epoch-0001"

    resumed = train(ckpt, resume=True)
    assert resumed.resumed_from == 1
    uninterrupted = train(tmp_path / "whole")
    assert resumed.state["epoch"] == uninterrupted.state["epoch"] == 3
    for mine, theirs in zip(weights(resumed), weights(uninterrupted), strict=True):
        np.testing.assert_array_equal(mine, theirs)
    assert resumed.state["history"] == uninterrupted.state["history"]

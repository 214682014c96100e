"""A CycleGAN run killed with SIGKILL in the middle of an epoch resumes from
its last checkpoint and ends with exactly the weights of a run that never
stopped: the four networks, both optimizers (so the learning-rate
schedule), both image pools (contents, fill counts, random state) and the
epochs' data order and jitter. Each epoch is as long as the larger domain."""

import os
import signal
import subprocess
import sys
import textwrap
import time

import keras
import numpy as np
import pytest

CONFIG = dict(image_size=32, epochs=2, decay_epochs=1, n_blocks=2, ngf=4, ndf=4, pool_size=5,
              seed=5)
COUNT_A, COUNT_B = 12, 8

DRIVER = textwrap.dedent(
    """
    import time
    import keras
    from zoo.data.embedded import ground_truth
    from zoo.data.unpaired import load_unpaired
    from zoo.gan.cyclegan.training import CycleGANConfig, train_cyclegan, validation_batches

    class Stall(keras.callbacks.Callback):
        # Mark the middle of the second epoch, then wait there to be killed.
        def on_epoch_begin(self, epoch, logs=None):
            self.epoch = epoch

        def on_train_batch_end(self, batch, logs=None):
            if self.epoch == 1 and batch == {count_a} // 2:
                open({marker!r}, "w").close()
                time.sleep(600)

    data = load_unpaired("color2sepia", 32, augment=False, shuffle=False)
    test = validation_batches(data.test_a.take(2), data.test_b.take(2),
                              ground_truth("color2sepia"))
    train_cyclegan(CycleGANConfig(**{config!r}), data.train_a.take({count_a}),
                   data.train_b.take({count_b}), test, checkpoint_dir={ckpt!r},
                   callbacks=[Stall()], verbose=0)
    """
)


class StepCounter(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.steps = []

    def on_epoch_begin(self, epoch, logs=None):
        self.steps.append(0)

    def on_train_batch_end(self, batch, logs=None):
        self.steps[-1] += 1


def train(ckpt, resume=False, callbacks=()):
    from zoo.data.embedded import ground_truth
    from zoo.data.unpaired import load_unpaired
    from zoo.gan.cyclegan.training import CycleGANConfig, train_cyclegan, validation_batches

    data = load_unpaired("color2sepia", 32, augment=False, shuffle=False)
    test = validation_batches(data.test_a.take(2), data.test_b.take(2),
                              ground_truth("color2sepia"))
    return train_cyclegan(CycleGANConfig(**CONFIG), data.train_a.take(COUNT_A),
                          data.train_b.take(COUNT_B), test, checkpoint_dir=ckpt,
                          resume=resume, callbacks=callbacks, verbose=0)


def state_of(result):
    model = result.model
    networks = (model.generator_ab, model.generator_ba, model.discriminator_a,
                model.discriminator_b)
    return ([w for network in networks for w in network.get_weights()]
            + [v.numpy() for v in model.g_optimizer.variables + model.d_optimizer.variables]
            + [v.numpy() for pool in (model.pool_a, model.pool_b)
               for v in (pool.images, pool.count, pool.seed, pool.draws)])


@pytest.mark.slow
def test_sigkill_mid_epoch_then_resume_ends_with_the_uninterrupted_state(tmp_path):
    marker = tmp_path / "mid-epoch"
    ckpt = tmp_path / "killed"
    script = DRIVER.format(config=CONFIG, count_a=COUNT_A, count_b=COUNT_B,
                           marker=str(marker), ckpt=str(ckpt))
    process = subprocess.Popen([sys.executable, "-c", script], stderr=subprocess.PIPE,
                               text=True, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})
    try:
        deadline = time.monotonic() + 600
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
    counter = StepCounter()
    uninterrupted = train(tmp_path / "whole", callbacks=[counter])
    assert counter.steps == [max(COUNT_A, COUNT_B)] * 3  # never stops at the shorter domain
    assert resumed.state["epoch"] == uninterrupted.state["epoch"] == 3
    # The pools filled and then replayed (5 images, 36 fakes per domain).
    assert int(uninterrupted.model.pool_a.draws.numpy()) == 3 * COUNT_A - 5
    for mine, theirs in zip(state_of(resumed), state_of(uninterrupted), strict=True):
        np.testing.assert_array_equal(mine, theirs)
    assert resumed.state["history"] == uninterrupted.state["history"]

"""Training under tf.distribute.MirroredStrategy, on two logical CPU devices."""

import os
import subprocess
import sys
import textwrap

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))

SCRIPT = textwrap.dedent(
    """
    import sys
    import tensorflow as tf
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(
        cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    sys.path.insert(0, {here!r})
    from conftest import colour_dataset
    from zoo.training import FeatureCache, TrainConfig, train_classifier
    from zoo.training.trainer import make_strategy

    strategy = make_strategy("mirrored", devices=["/cpu:0", "/cpu:1"])
    assert strategy.num_replicas_in_sync == 2
    train, _, _ = colour_dataset(48, seed=0)
    val, _, _ = colour_dataset(24, seed=1)
    config = TrainConfig(backbone="mobilenet_v3_small", image_size=32, weights=None, epochs=2,
                         batch_size=16, fine_tune_blocks=1, fine_tune_epochs=1,
                         strategy="mirrored")
    result = train_classifier(config, train, val, 3, strategy=strategy, verbose=0,
                              checkpoint_dir={ckpt!r}, feature_cache=FeatureCache({cache!r}))
    print("replicas", strategy.num_replicas_in_sync, "epochs", len(result.history["loss"]),
          "loss", result.history["loss"][0], result.history["loss"][-1])
    """
)


def test_mirrored_strategy_over_two_cpu_devices(tmp_path):
    script = SCRIPT.format(here=HERE, ckpt=str(tmp_path / "ckpt"), cache=str(tmp_path / "c"))
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            timeout=600)
    assert result.returncode == 0, result.stderr[-4000:]
    words = result.stdout.strip().splitlines()[-1].split()
    assert words[:4] == ["replicas", "2", "epochs", "3"], result.stdout
    first, last = float(words[5]), float(words[6])
    assert last < first  # it learned something


def test_multi_worker_is_refused_with_the_reason():
    from zoo.errors import ZooError
    from zoo.training import make_strategy

    with pytest.raises(ZooError, match="keras-team/keras#20585"):
        make_strategy("multi_worker")


WORKER_SCRIPT = textwrap.dedent(
    """
    import numpy as np
    import tensorflow as tf
    import keras

    strategy = tf.distribute.MultiWorkerMirroredStrategy()
    with strategy.scope():
        model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
        model.compile("sgd", "mse")
    x = np.ones((32, 4), "float32")
    dataset = tf.data.Dataset.from_tensor_slices((x, x[:, :2])).batch(8)
    model.fit(dataset, epochs=1, verbose=0)
    print("trained")
    """
)


@pytest.mark.slow
@pytest.mark.xfail(strict=True, reason="Keras 3 fit() under MultiWorkerMirroredStrategy "
                                       "fails (keras-team/keras#20585); when this passes, "
                                       "let zoo's 'multi_worker' strategy through")
def test_keras_fit_under_multi_worker_strategy_on_two_local_processes():
    """Plain Keras, no zoo: two workers (TF_CONFIG on 127.0.0.1) fit one model."""
    import json

    from zoo.tuning.distributed import free_port

    cluster = {"worker": [f"127.0.0.1:{free_port()}", f"127.0.0.1:{free_port()}"]}
    workers = []
    for index in range(2):
        env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", TF_CONFIG=json.dumps(
            {"cluster": cluster, "task": {"type": "worker", "index": index}}))
        workers.append(subprocess.Popen([sys.executable, "-c", WORKER_SCRIPT], env=env,
                                        text=True, stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE))
    try:
        results = [worker.communicate(timeout=300) for worker in workers]
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
    for worker, (out, err) in zip(workers, results):
        assert worker.returncode == 0 and "trained" in out, err[-2000:]

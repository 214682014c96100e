"""Training under tf.distribute.MirroredStrategy, on two logical CPU devices."""

import os
import subprocess
import sys
import textwrap

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

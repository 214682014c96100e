"""The shared training loop: best weights with and without checkpoints, a
minimum number of epochs, precise BN, and checkpoints that are verified."""

import numpy as np
import pytest

import keras
import tensorflow as tf

from zoo.training import Monitor, TrainingLoop, new_state, recompute_batchnorm_statistics
from zoo.training.checkpoint import CheckpointError, Checkpointer


def _regression(seed=0):
    keras.utils.set_random_seed(seed)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(16, activation="relu"),
                              keras.layers.Dropout(0.1), keras.layers.Dense(1)])
    model.compile(keras.optimizers.Adam(1e-2), "mse")
    return model


def _data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 4)).astype("float32")
    y = x.sum(axis=1, keepdims=True)
    return tf.data.Dataset.from_tensor_slices((x, y)).batch(16)


@pytest.mark.parametrize("checkpointed", [False, True])
def test_the_best_weights_come_back_with_or_without_checkpoints(tmp_path, checkpointed):
    """Watching the training loss for its *largest* value makes epoch 0 the
    best, so the weights restored must be those after epoch 0, not the last."""
    data = _data()
    after_first = {}
    model = _regression()
    loop = TrainingLoop(
        new_state(), monitor=Monitor("loss", "max", patience=0), verbose=0,
        checkpointer=Checkpointer(tmp_path / "ckpt") if checkpointed else None,
        callbacks=[keras.callbacks.LambdaCallback(
            on_epoch_end=lambda epoch, logs: after_first.setdefault("w", model.get_weights()))])
    loop.run(model, lambda epoch: data, data, 4)
    assert loop.state["epoch"] == 4 and loop.state["best_epoch"] == 0
    assert not np.allclose(model.get_weights()[0], after_first["w"][0])
    # A fresh loop (as after a resume) has no weights in memory: only the disk.
    restorer = loop if not checkpointed else TrainingLoop(
        loop.state, checkpointer=Checkpointer(tmp_path / "ckpt"))
    assert restorer.restore_best(model)
    for restored, kept in zip(model.get_weights(), after_first["w"]):
        np.testing.assert_allclose(restored, kept)


def test_early_stopping_waits_for_min_epochs_and_says_why(capsys):
    data = _data()
    model = _regression()
    loop = TrainingLoop(new_state(), monitor=Monitor("loss", "max", patience=1, min_epochs=4),
                        verbose=0)
    stopped = loop.run(model, lambda epoch: data, None, 10)
    assert stopped and loop.state["epoch"] == 4
    assert "has not improved for 3 epochs" in loop.state["stop_reason"]
    assert "early stop after epoch 4" in capsys.readouterr().out


def test_an_unknown_monitored_metric_is_named():
    data = _data()
    loop = TrainingLoop(new_state(), monitor=Monitor("val_psnr"), verbose=0)
    with pytest.raises(KeyError, match="val_psnr"):
        loop.run(_regression(), lambda epoch: data, data, 1)


@pytest.mark.slow
def test_precise_batchnorm_makes_inference_agree_with_training():
    """A backbone trained from scratch for a few steps, with Keras's default
    BatchNorm momentum, predicts one class in inference mode; after precise
    BN its inference predictions on the training images vary and are right
    more often than chance."""
    from zoo import create_classifier, unfreeze_last_blocks

    rng = np.random.default_rng(0)
    labels = np.arange(48) % 2
    images = rng.integers(0, 120, (48, 32, 32, 3)).astype("uint8")
    images[labels == 1] += 120
    keras.utils.set_random_seed(0)
    model = create_classifier("mobilenet_v3_small", 2, weights=None, input_shape=32)
    unfreeze_last_blocks(model, 13, train_batchnorm=True)
    model.compile(keras.optimizers.Adam(1e-3), "sparse_categorical_crossentropy")
    dataset = tf.data.Dataset.from_tensor_slices((images, labels)).batch(16)
    model.fit(dataset, epochs=2, verbose=0)

    updated = recompute_batchnorm_statistics(model, dataset.map(lambda x, y: x))
    assert updated > 10
    predictions = model.predict(images, verbose=0)
    assert predictions[:, 1].std() > 0.05
    assert (predictions.argmax(1) == labels).mean() > 0.6


def _two_checkpoints(directory):
    model = _regression()
    checkpointer = Checkpointer(directory)
    data = _data()
    loop = TrainingLoop(new_state(), checkpointer=checkpointer, verbose=0)
    loop.run(model, lambda epoch: data, data, 2)
    return model, checkpointer


def test_a_damaged_latest_checkpoint_is_skipped_for_the_previous_one(tmp_path):
    model, checkpointer = _two_checkpoints(tmp_path)
    assert checkpointer.latest().name == "epoch-0002"
    data_file = next((tmp_path / "epoch-0002").glob("ckpt.data-*"))
    data_file.write_bytes(data_file.read_bytes()[:100])  # an interrupted copy
    with pytest.warns(UserWarning, match="epoch-0002 is damaged"):
        assert checkpointer.latest().name == "epoch-0001"
    assert checkpointer.load_state()["epoch"] == 1
    checkpointer.restore({"model": model, "optimizer": model.optimizer})


def test_no_intact_checkpoint_is_a_clear_error(tmp_path):
    _, checkpointer = _two_checkpoints(tmp_path)
    for folder in tmp_path.glob("epoch-*"):
        (folder / "state.json").unlink()
    with pytest.warns(UserWarning), pytest.raises(CheckpointError, match=str(tmp_path)):
        checkpointer.latest()


def test_a_checkpoint_of_another_model_is_refused_with_the_folder(tmp_path):
    _, checkpointer = _two_checkpoints(tmp_path)
    other = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3), keras.layers.Dense(1)])
    other.compile("adam", "mse")
    other.optimizer.build(other.trainable_variables)
    with pytest.raises(CheckpointError, match="epoch-0002"):
        checkpointer.restore({"model": other, "optimizer": other.optimizer})

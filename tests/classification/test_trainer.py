"""Two-phase training: what trains, what stays frozen, the feature cache."""

import keras
import numpy as np
import pytest

from zoo.classification.classifier import get_backbone
from zoo.classification import FeatureCache, TrainConfig, train_classifier


def _config(**overrides):
    values = dict(backbone="resnet50", image_size=32, weights=None, epochs=2, batch_size=16,
                  fine_tune_blocks=1, fine_tune_epochs=2, patience=5, learning_rate=1e-2)
    values.update(overrides)
    return TrainConfig(**values)


def _snapshot(model):
    return {w.path: w.numpy().copy() for w in model.weights}


@pytest.mark.slow
def test_two_phases_train_the_right_layers_and_keep_batchnorm(tiny_data, tmp_path):
    train, val = tiny_data
    seen = []
    result = train_classifier(_config(), train, val, 3, checkpoint_dir=tmp_path / "ckpt",
                              feature_cache=FeatureCache(tmp_path / "cache"), verbose=0,
                              callbacks=[keras.callbacks.LambdaCallback(
                                  on_epoch_end=lambda epoch, logs: seen.append(
                                      (epoch, logs["phase"])))])
    assert seen == [(0, 1), (1, 1), (2, 2), (3, 2)]
    assert result.phase_boundary == 2
    for key in ("loss", "accuracy", "val_loss", "val_accuracy", "lr"):
        assert len(result.history[key]) == 4, key
    # Phase 2's learning rate is about 100 times smaller than phase 1's.
    assert max(result.history["lr"][2:]) <= 1e-2 / 100 + 1e-12


@pytest.mark.slow
def test_frozen_layers_and_batchnorm_statistics_do_not_change(tiny_data, tmp_path):
    """Train only phase 2 from a known model state and compare every weight."""
    train, val = tiny_data
    config = _config(epochs=0, fine_tune_blocks=1, fine_tune_epochs=1)
    keras.utils.set_random_seed(config.seed)
    from zoo.classification.classifier import create_classifier

    reference = create_classifier("resnet50", 3, weights=None, input_shape=32)
    before = _snapshot(reference)
    result = train_classifier(config, train, val, 3, verbose=0)
    after = _snapshot(result.model)
    assert before.keys() == after.keys()
    changed = {path for path in before if not np.array_equal(before[path], after[path])}
    assert changed, "nothing trained"
    for path in changed:
        layer = path.split("/")[-2]
        assert path.startswith("predictions/") or layer.startswith("conv5_"), path
        assert "moving" not in path and not layer.endswith("_bn"), path
    # Every unfrozen conv5 convolution did train.
    assert "conv5_block3_3_conv/kernel" in changed


@pytest.mark.slow
def test_feature_cache_is_hit_on_the_second_run_and_missed_on_new_data(tiny_data, tmp_path):
    train, val = tiny_data
    cache = FeatureCache(tmp_path / "cache")
    config = _config(fine_tune_blocks=0)
    first = train_classifier(config, train, val, 3, feature_cache=cache, verbose=0)
    assert first.feature_cache_hit is False
    # A new process would find the entries on disk: use a fresh cache object.
    second = train_classifier(config, train, val, 3, feature_cache=FeatureCache(cache.directory),
                              verbose=0)
    assert second.feature_cache_hit is True
    np.testing.assert_allclose(first.history["val_loss"], second.history["val_loss"], rtol=1e-5)

    # One pixel of one training image changes: the train entry is stale.
    import tensorflow as tf

    images, labels = (np.concatenate(parts) for parts in zip(*train.as_numpy_iterator()))
    images[5, 0, 0, 0] ^= 1
    changed = tf.data.Dataset.from_tensor_slices((images, labels)).batch(16)
    third = train_classifier(config, changed, val, 3, feature_cache=cache, verbose=0)
    assert third.feature_cache_hit is False
    assert len([p for p in cache.directory.iterdir() if not p.name.startswith(".")]) == 3


@pytest.mark.slow
def test_mixed_precision_computes_in_float16_and_restores_the_policy(tiny_data, tmp_path):
    """Mixed precision turns on by itself only with a GPU; asked for, it runs on CPU too."""
    train, val = tiny_data
    config = _config(backbone="mobilenet_v3_small", epochs=1, fine_tune_epochs=1,
                     mixed_precision=True)
    result = train_classifier(config, train, val, 3, checkpoint_dir=tmp_path / "ckpt",
                              feature_cache=FeatureCache(tmp_path / "cache"), verbose=0)
    assert keras.config.dtype_policy().name == "float32"  # as it was before the run

    convolutions = [layer for layer in get_backbone(result.model).layers
                    if isinstance(layer, keras.layers.Conv2D)]
    assert {(c.compute_dtype, c.variable_dtype) for c in convolutions} == {("float16", "float32")}
    assert result.model.get_layer("predictions").compute_dtype == "float32"
    # Keras scales the loss of a mixed_float16 model, so small gradients survive.
    assert isinstance(result.model.optimizer, keras.optimizers.LossScaleOptimizer)
    assert np.all(np.isfinite(result.history["loss"])) and len(result.history["loss"]) == 2

    images = next(iter(val))[0]
    probabilities = result.model.predict(images, verbose=0)
    assert probabilities.dtype == np.float32
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)


def test_best_weights_are_restored_without_a_checkpoint_folder(tiny_data):
    """Retraining (tuning) and the transfer recipe train with no checkpoint_dir:
    their model must still be the best epoch's, not the last one's."""
    train, val = tiny_data
    # On ResNet50's large random features this learning rate makes the
    # validation loss bounce: the last epoch is not the best one.
    config = _config(epochs=5, fine_tune_blocks=0, patience=10, learning_rate=0.05)
    result = train_classifier(config, train, val, 3, verbose=0)
    model = result.model
    model.compile(loss=keras.losses.CategoricalCrossentropy())
    one_hot = val.map(lambda x, y: (x, keras.ops.one_hot(y, 3)))
    restored_loss = model.evaluate(one_hot, verbose=0)
    best = min(result.history["val_loss"])
    assert result.best_epoch == result.history["val_loss"].index(best)
    assert result.history["val_loss"][-1] > best + 1.0  # else this test shows nothing
    np.testing.assert_allclose(restored_loss, best, rtol=1e-4, atol=1e-4)

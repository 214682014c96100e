"""Heads trained alone on cached backbone features: the cheap inner loop of
head tuning. No backbone is built; `attach_head` hands the trained weights to
a full classifier afterwards.
"""

from __future__ import annotations

from dataclasses import dataclass

import keras
import tensorflow as tf

from zoo.classifier import apply_head
from zoo.training.config import TrainConfig
from zoo.training.feature_cache import CachedFeatures, Features
from zoo.training.trainer import compile_for_training

HEAD_LAYERS = ("head_hidden", "head_dropout", "predictions")


@dataclass
class HeadResult:
    model: keras.Model
    history: dict


def _one_hot_dataset(features: Features, num_classes, batch_size, seed=None):
    ds = tf.data.Dataset.from_tensor_slices(
        (features.features, tf.one_hot(features.labels.astype("int32"), num_classes)))
    if seed is not None:
        ds = ds.shuffle(len(features.labels), seed=seed)
    return ds.batch(batch_size).prefetch(tf.data.AUTOTUNE)


def train_head(config: TrainConfig, features: CachedFeatures, num_classes: int, *,
               callbacks=(), verbose=0) -> HeadResult:
    """Train `config`'s head on cached features for `config.epochs` epochs.

    Early stopping on validation loss (`config.patience`, 0 turns it off)
    restores the best weights.
    """
    keras.utils.set_random_seed(config.seed)
    inputs = keras.Input((features.train.features.shape[1],), name="features")
    outputs = apply_head(inputs, num_classes, head=config.head,
                         hidden_units=config.hidden_units, dropout=config.dropout)
    model = keras.Model(inputs, outputs, name="head")
    compile_for_training(model, config.learning_rate, config)
    callbacks = list(callbacks)
    if config.patience > 0:
        callbacks.append(keras.callbacks.EarlyStopping(
            patience=config.patience, restore_best_weights=True))
    history = model.fit(
        _one_hot_dataset(features.train, num_classes, config.batch_size, seed=config.seed),
        validation_data=_one_hot_dataset(features.val, num_classes, config.batch_size),
        epochs=config.epochs, callbacks=callbacks, verbose=verbose)
    return HeadResult(model, history.history)


def attach_head(head: keras.Model, classifier: keras.Model) -> None:
    """Copy a head's weights into a classifier built with the same head arguments."""
    for name in HEAD_LAYERS:
        try:
            source = head.get_layer(name)
        except ValueError:
            continue
        classifier.get_layer(name).set_weights(source.get_weights())

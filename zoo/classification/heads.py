"""Heads trained alone on cached backbone features: the cheap inner loop of
head tuning. No backbone is built; `attach_head` hands the trained weights to
a full classifier afterwards.

`train_head` trains one head with `Model.fit`. `train_heads` trains many at
once: on cached features a head's step costs microseconds, so one `fit` per
head is dominated by Keras building and tracing its train step (about a
second each). `train_heads` puts the heads side by side in one model that is
traced once; each head keeps its own loss, optimizer, early stopping and
random seeds, so it ends with the weights and history `train_head` gives it.
"""

from __future__ import annotations

from dataclasses import dataclass

import keras
import numpy as np
import tensorflow as tf

from zoo.classification.classifier import apply_head
from zoo.classification.config import TrainConfig
from zoo.classification.feature_cache import CachedFeatures, Features
from zoo.classification.trainer import compile_for_training

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
    model = build_head(config, features.train.features.shape[1], num_classes)
    compile_for_training(model, config.learning_rate, config)
    callbacks = list(callbacks)
    if config.patience > 0:
        callbacks.append(keras.callbacks.EarlyStopping(
            patience=config.patience, restore_best_weights=True))
    history = model.fit(
        _one_hot_dataset(features.train, num_classes, config.batch_size, seed=config.seed),
        validation_data=_one_hot_dataset(features.val, num_classes, config.batch_size),
        epochs=config.epochs, callbacks=callbacks, verbose=verbose, shuffle=False)
    return HeadResult(model, history.history)


def build_head(config: TrainConfig, width: int, num_classes: int, name="head") -> keras.Model:
    """`config`'s head alone, on features of width `width`, seeded with `config.seed`.

    Seeding right before building gives a head the same initial weights and
    dropout seeds wherever it is built: alone, in a bank after other heads,
    or in a tuning trial run again after a resume.
    """
    keras.utils.set_random_seed(config.seed)
    inputs = keras.Input((width,), name="features")
    outputs = apply_head(inputs, num_classes, head=config.head,
                         hidden_units=config.hidden_units, dropout=config.dropout)
    return keras.Model(inputs, outputs, name=name)


class _HeadBank(keras.Model):
    """Heads side by side on the same features, each with its own loss and
    optimizer: the gradient of the summed losses with respect to one head's
    weights is that head's own gradient, so each trains as if alone."""

    def __init__(self, heads, configs, **kwargs):
        super().__init__(**kwargs)
        self.heads = heads
        self.head_losses = [keras.losses.CategoricalCrossentropy(
            label_smoothing=c.label_smoothing) for c in configs]
        self.head_optimizers = [keras.optimizers.Adam(c.learning_rate) for c in configs]
        for optimizer, head in zip(self.head_optimizers, heads):
            optimizer.build(head.trainable_variables)
        self.loss_trackers = [keras.metrics.Mean(name=f"loss_{i}") for i in range(len(heads))]
        self.accuracies = [keras.metrics.CategoricalAccuracy(name=f"accuracy_{i}")
                           for i in range(len(heads))]

    @property
    def metrics(self):
        return [*self.loss_trackers, *self.accuracies]

    def call(self, features, training=False):
        return [head(features, training=training) for head in self.heads]

    def _per_head_losses(self, y, predictions):
        return [loss(y, p) for loss, p in zip(self.head_losses, predictions)]

    def _update_metrics(self, y, losses, predictions):
        # Keras weighs each batch's loss by its size; so does this, so that
        # epoch losses match train_head's.
        batch = tf.shape(y)[0]
        for tracker, accuracy, loss, p in zip(self.loss_trackers, self.accuracies,
                                              losses, predictions):
            tracker.update_state(loss, sample_weight=batch)
            accuracy.update_state(y, p)
        return {m.name: m.result() for m in self.metrics}

    def train_step(self, data):
        x, y = data
        with tf.GradientTape() as tape:
            predictions = self(x, training=True)
            losses = self._per_head_losses(y, predictions)
            total = tf.add_n(losses)
        variables = [head.trainable_variables for head in self.heads]
        gradients = tape.gradient(total, variables)
        for optimizer, grads, head_variables in zip(self.head_optimizers, gradients, variables):
            optimizer.apply(grads, head_variables)
        return self._update_metrics(y, losses, predictions)

    def test_step(self, data):
        x, y = data
        predictions = self(x, training=False)
        return self._update_metrics(y, self._per_head_losses(y, predictions), predictions)


class _PerHeadStopping(keras.callbacks.Callback):
    """keras.callbacks.EarlyStopping(restore_best_weights=True) for each head
    of a bank, plus each head's own epoch count. The bank stops when every
    head has; a head that ended earlier trains on unseen, and gets back the
    weights it ended with."""

    def __init__(self, heads, configs):
        super().__init__()
        self.heads, self.configs = heads, configs
        self.best = [np.inf] * len(heads)
        self.wait = [0] * len(heads)
        self.kept_weights = [None] * len(heads)
        self.last_epoch = [None] * len(heads)

    def on_epoch_end(self, epoch, logs=None):
        for i, (head, config) in enumerate(zip(self.heads, self.configs)):
            if self.last_epoch[i] is not None:
                continue
            if config.patience > 0:
                current = logs[f"val_loss_{i}"]
                if self.kept_weights[i] is None:
                    self.kept_weights[i] = head.get_weights()
                self.wait[i] += 1
                if current < self.best[i]:
                    self.best[i], self.wait[i] = current, 0
                    self.kept_weights[i] = head.get_weights()
                elif self.wait[i] >= config.patience and epoch > 0:
                    self.last_epoch[i] = epoch
            if epoch + 1 >= config.epochs:
                self.last_epoch[i] = epoch
            if self.last_epoch[i] is not None and config.patience == 0:
                self.kept_weights[i] = head.get_weights()
        if all(e is not None for e in self.last_epoch):
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        for head, weights in zip(self.heads, self.kept_weights):
            if weights is not None:
                head.set_weights(weights)


def train_heads(configs, features: CachedFeatures, num_classes: int, *,
                verbose=0) -> list[HeadResult]:
    """Train several heads on the same cached features, in one traced loop.

    Each head gets the weights and history `train_head(config, ...)` gives it
    (to float rounding). Heads that share a batch size, seed and jit_compile
    setting train together; the rest in further groups.

    Returns:
        One HeadResult per config, in order.
    """
    configs = list(configs)
    results: list[HeadResult | None] = [None] * len(configs)
    groups: dict[tuple, list[int]] = {}
    for index, config in enumerate(configs):
        groups.setdefault((config.batch_size, config.seed, config.jit_compile), []).append(index)
    width = features.train.features.shape[1]
    for (batch_size, seed, jit_compile), indices in groups.items():
        group = [configs[i] for i in indices]
        heads = [build_head(c, width, num_classes, name=f"head_{n}")
                 for n, c in enumerate(group)]
        bank = _HeadBank(heads, group, name="head_bank")
        bank.compile(jit_compile=jit_compile)
        stopping = _PerHeadStopping(heads, group)
        bank.fit(
            _one_hot_dataset(features.train, num_classes, batch_size, seed=seed),
            validation_data=_one_hot_dataset(features.val, num_classes, batch_size),
            epochs=max(c.epochs for c in group), callbacks=[stopping], verbose=verbose,
            shuffle=False)  # the dataset shuffles itself, with the seed
        for n, (index, head) in enumerate(zip(indices, heads)):
            last = stopping.last_epoch[n] + 1
            history = {key: bank.history.history[f"{key}_{n}"][:last]
                       for key in ("loss", "accuracy", "val_loss", "val_accuracy")}
            head.name = "head"
            results[index] = HeadResult(head, history)
    return results


def attach_head(head: keras.Model, classifier: keras.Model) -> None:
    """Copy a head's weights into a classifier built with the same head arguments."""
    for name in HEAD_LAYERS:
        try:
            source = head.get_layer(name)
        except ValueError:
            continue
        classifier.get_layer(name).set_weights(source.get_weights())

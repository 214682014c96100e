"""Two-phase transfer learning, epoch by epoch, resumable after a crash.

Phase 1 (feature extraction): the backbone is frozen and its BatchNorm in
inference mode; only the head trains. Without augmentation the backbone runs
over the data once and the head trains on cached features.

Phase 2 (fine-tuning): the last N blocks of the backbone are unfrozen (their
BatchNorm layers stay frozen), the model is recompiled with a learning rate
about 100 times smaller, warmed up linearly then decayed along a cosine.

Both phases run in the shared `TrainingLoop` (zoo/training/loop.py): each
epoch's data is shuffled with a seed derived from the epoch number and
followed by a checkpoint, so a run resumed after `kill -9` sees the same
batches, learning rates and early-stopping state as one that was never
interrupted; it trains under any `tf.distribute` strategy, multi-worker
included; early stopping watches the validation loss, and the best weights
are restored at the end, whether or not there are checkpoints.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import keras
import numpy as np
import tensorflow as tf

from zoo.classification.classifier import build_classifier, head_model, unfreeze_last_blocks
from zoo.classification.config import TrainConfig
from zoo.classification.feature_cache import FeatureCache, compute_features, dataset_digest
from zoo.training.checkpoint import Checkpointer
from zoo.training.distribute import dtype_policy, make_strategy, precision_policy
from zoo.training.loop import PRECISE_BN_EXAMPLES, Monitor, TrainingLoop, new_state

SHUFFLE_BUFFER = 2048


@dataclass
class TrainResult:
    """What a training run produced.

    Args:
        model: the classifier with the best weights restored.
        history: metric name -> one value per epoch, both phases.
        phase_boundary: the epoch at which phase 2 began (None without it).
        best_epoch: the epoch whose weights were restored.
        feature_cache_hit: phase 1 found its features in the cache.
        resumed_from: the epoch training resumed at, or None.
    """

    model: keras.Model
    history: dict = field(default_factory=dict)
    phase_boundary: int | None = None
    best_epoch: int | None = None
    best_val_loss: float | None = None
    feature_cache_hit: bool | None = None
    resumed_from: int | None = None
    stop_reason: str | None = None
    state: dict = field(default_factory=dict)


def augmentation_layers(strength: float, seed: int):
    """Random flip, rotation, zoom and contrast, scaled by `strength` (0..1)."""
    return keras.Sequential([
        keras.layers.RandomFlip("horizontal", seed=seed),
        keras.layers.RandomRotation(0.1 * strength, seed=seed + 1),
        keras.layers.RandomZoom(0.2 * strength, seed=seed + 2),
        keras.layers.RandomContrast(0.3 * strength, value_range=(0, 255), seed=seed + 3),
    ], name="augmentation")


def balanced_class_weight(labels, num_classes) -> dict[int, float]:
    counts = np.bincount(np.asarray(labels).astype(int), minlength=num_classes)
    counts = np.maximum(counts, 1)
    return {i: float(len(labels) / (num_classes * c)) for i, c in enumerate(counts)}


class _Data:
    """Per-epoch views of the training data, shuffled with a seed of the epoch."""

    def __init__(self, images_train, images_val, num_classes, digest, config: TrainConfig):
        # Keras needs a known epoch length; unbatching loses it, so restore it.
        self.images_train = images_train.unbatch().apply(
            tf.data.experimental.assert_cardinality(digest.count))
        self.images_val = images_val
        self.num_classes = num_classes
        self.config = config
        self._class_weight = None
        if config.class_weight == "balanced":
            weights = balanced_class_weight(digest.labels, num_classes)
            self._class_weight = tf.constant([weights[i] for i in range(num_classes)],
                                             tf.float32)
        self._augment = (augmentation_layers(config.augment, config.seed)
                         if config.augment > 0 else None)

    def _one_hot(self, x, y):
        return x, tf.one_hot(tf.cast(y, tf.int32), self.num_classes)

    def _weighted(self, x, y):
        """Training batches: one-hot labels, and sample weights for class weighting."""
        x, one_hot = self._one_hot(x, y)
        if self._class_weight is None:
            return x, one_hot
        return x, one_hot, tf.gather(self._class_weight, tf.cast(y, tf.int32))

    def batchnorm_sample(self):
        """Training images in a fixed order, unaugmented, for precise BN."""
        return self.images_train.take(PRECISE_BN_EXAMPLES).batch(self.config.batch_size)

    def images_for_epoch(self, epoch: int):
        ds = self.images_train.shuffle(SHUFFLE_BUFFER, seed=self.config.seed * 1000 + epoch,
                                       reshuffle_each_iteration=False)
        ds = ds.batch(self.config.batch_size)
        if self._augment is not None:
            augment = self._augment

            def apply(x, y):
                x = tf.clip_by_value(augment(tf.cast(x, tf.float32), training=True), 0.0, 255.0)
                return x, y

            ds = ds.map(apply, num_parallel_calls=tf.data.AUTOTUNE)
        return ds.map(self._weighted).prefetch(tf.data.AUTOTUNE)

    def images_validation(self):
        return self.images_val.map(self._one_hot).prefetch(tf.data.AUTOTUNE)

    def features_for_epoch(self, features, epoch: int):
        ds = tf.data.Dataset.from_tensor_slices((features.features, features.labels))
        ds = ds.shuffle(len(features.labels), seed=self.config.seed * 1000 + epoch,
                        reshuffle_each_iteration=False)
        return ds.batch(self.config.batch_size).map(self._weighted)

    def features_validation(self, features):
        ds = tf.data.Dataset.from_tensor_slices((features.features, features.labels))
        return ds.batch(self.config.batch_size).map(self._one_hot)


def compile_for_training(model, learning_rate, config: TrainConfig):
    """Adam, cross-entropy with label smoothing on one-hot labels, accuracy."""
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate),
        loss=keras.losses.CategoricalCrossentropy(label_smoothing=config.label_smoothing),
        metrics=[keras.metrics.CategoricalAccuracy(name="accuracy")],
        jit_compile=config.jit_compile,
    )


def _fine_tune_schedule(config: TrainConfig, steps_per_epoch: int):
    warmup = int(round(config.warmup_epochs * steps_per_epoch))
    total = max(config.fine_tune_epochs * steps_per_epoch, warmup + 1)
    peak = config.phase2_learning_rate
    return keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=peak / 100.0, decay_steps=total - warmup,
        warmup_target=peak, warmup_steps=warmup)


def train_classifier(
    config: TrainConfig,
    train,
    val,
    num_classes: int,
    *,
    checkpoint_dir=None,
    resume: bool = False,
    feature_cache: FeatureCache | None = None,
    callbacks=(),
    extra_state: dict | None = None,
    verbose: int = 2,
    strategy=None,
    train_digest=None,
    model=None,
) -> TrainResult:
    """Train a zoo classifier in two phases; see the module docstring.

    Args:
        config: the run's configuration.
        train, val: batched datasets of (uint8 RGB images, integer labels).
            `train` is unbatched and reshuffled here per epoch.
        num_classes: number of classes.
        checkpoint_dir: where per-epoch checkpoints go; None disables them.
        resume: continue from the latest checkpoint in `checkpoint_dir`.
        feature_cache: where phase 1 features are cached (default location
            when None and the configuration allows caching).
        callbacks: Keras callbacks; each epoch's logs carry its `phase` (1
            the head, 2 fine-tuning), and epochs count on across phases and
            resumes.
        extra_state: saved in every checkpoint and returned in
            `TrainResult.state["extra"]` (e.g. the MLflow run id).
        verbose: Keras `fit` verbosity.
        strategy: a `tf.distribute` strategy; by default from `config.strategy`.
        train_digest: `dataset_digest(train)` when the caller has it already.
        model: a classifier `create_classifier` made with `config`'s
            arguments, trained instead of building one (not with `resume`,
            which builds its own to restore into).
    """
    with dtype_policy(precision_policy(config.mixed_precision)):
        return _train_classifier(
            config, train, val, num_classes, checkpoint_dir=checkpoint_dir, resume=resume,
            feature_cache=feature_cache, callbacks=callbacks, extra_state=extra_state,
            verbose=verbose, strategy=strategy, train_digest=train_digest, model=model)


def _train_classifier(config, train, val, num_classes, *, checkpoint_dir, resume, feature_cache,
                      callbacks, extra_state, verbose, strategy, train_digest,
                      model) -> TrainResult:
    keras.utils.set_random_seed(config.seed)
    strategy = strategy or make_strategy(config.strategy)
    checkpointer = Checkpointer(checkpoint_dir) if checkpoint_dir else None
    state = checkpointer.load_state() if (resume and checkpointer) else None
    resumed_from = state["epoch"] if state else None

    if model is not None and state:
        raise ValueError("train_classifier: pass model= or resume=True, not both.")
    if model is None:
        with strategy.scope():
            # A resumed run takes every weight from its checkpoint.
            model = build_classifier(config.classifier, num_classes,
                                     weights=None if state else "config")
    if not state:
        state = new_state(phase=1, phase1_done=False, phase_boundary=None,
                          extra=extra_state or {}, config=config.to_dict())
    if extra_state:
        state["extra"].update(extra_state)

    train_digest = train_digest or dataset_digest(train)
    data = _Data(train, val, num_classes, train_digest, config)
    steps_per_epoch = max(1, math.ceil(train_digest.count / config.batch_size))
    result = TrainResult(model=model, resumed_from=resumed_from)
    loop = TrainingLoop(
        state, strategy=strategy, checkpointer=checkpointer, verbose=verbose, callbacks=callbacks,
        monitor=Monitor("val_loss", "min", config.patience, config.min_epochs))

    # A resumed run loads its checkpoint into the first phase it runs: the
    # one the checkpoint was written in, with that phase's optimizer.
    restore_pending = bool(resumed_from)

    def run_phase(fit_model, train_for_epoch, validation, last_epoch):
        nonlocal restore_pending
        objects = {"model": model, "optimizer": fit_model.optimizer}
        if restore_pending:
            fit_model.optimizer.build(fit_model.trainable_variables)  # slots to load into
            checkpointer.restore(objects)
            restore_pending = False
        return loop.run(fit_model, train_for_epoch, validation, last_epoch,
                        checkpoint_objects=objects, best_model=model,
                        batchnorm_data=data.batchnorm_sample(),
                        epoch_labels={"phase": state["phase"]})

    try:
        # Phase 1: the head alone.
        if state["phase"] == 1 and not state["phase1_done"] and config.epochs > 0:
            if config.uses_feature_cache:
                cache = feature_cache or FeatureCache()
                cached = compute_features(config, train, val, cache, model=model,
                                          train_digest=train_digest.digest)
                train_features, val_features = cached.train, cached.val
                result.feature_cache_hit = cached.hit
                with strategy.scope():
                    fit_model = head_model(model)
                    compile_for_training(fit_model, config.learning_rate, config)
                run_phase(fit_model, lambda epoch: data.features_for_epoch(train_features, epoch),
                          data.features_validation(val_features), config.epochs)
            else:
                with strategy.scope():
                    compile_for_training(model, config.learning_rate, config)
                run_phase(model, data.images_for_epoch, data.images_validation(), config.epochs)
            state["phase1_done"] = True

        # Phase 2: fine-tune the last blocks.
        if config.fine_tune_blocks > 0 and config.fine_tune_epochs > 0:
            if state["phase"] == 1:
                # Fine-tune from the best head, as early stopping would have left it.
                loop.restore_best(model)
                state.update(phase=2, phase_boundary=state["epoch"], wait=0, stop_reason=None)
            with strategy.scope():
                unfreeze_last_blocks(model, config.fine_tune_blocks,
                                     train_batchnorm=config.train_batchnorm)
                compile_for_training(model, _fine_tune_schedule(config, steps_per_epoch), config)
            run_phase(model, data.images_for_epoch, data.images_validation(),
                      state["phase_boundary"] + config.fine_tune_epochs)
        loop.restore_best(model)
    finally:
        loop.close()
    if isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
        model = _outside_strategy(model)
    result.model = model
    result.history = state["history"]
    result.phase_boundary = state["phase_boundary"]
    result.best_epoch = state["best_epoch"]
    result.best_val_loss = state["best"]
    result.stop_reason = state["stop_reason"]
    result.state = state
    return result


def _outside_strategy(model):
    """A copy of `model` whose variables belong to no strategy.

    A model built in a strategy's scope keeps that strategy for `predict`,
    `evaluate` and saving; under a multi-worker strategy those would need
    every worker again. The copy behaves as any model made on one machine.
    """
    copy = keras.models.clone_model(model)
    copy.set_weights(model.get_weights())
    return copy

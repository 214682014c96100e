"""`ClassifierHyperModel`: a zoo classifier as a keras-tuner HyperModel.

Fixed arguments (classes, image size, weights, which backbones) are checked
in `__init__`; the whole search space is declared in `build(hp)`, except the
batch size and the epochs, which are declared in `fit` (they shape training,
not the model).

Two ways to run a trial, picked per trial from its hyperparameters:

- cached (fine_tune_blocks == 0 and augment == 0): the backbone is frozen and
  sees the same images every epoch, so its features are computed once per
  backbone (zoo.classification.compute_features, kept in one FeatureCache shared by
  all trials) and `build` returns only the head, on features. A search over
  heads then costs little more than one backbone pass.
- full: `build` returns the whole classifier and `fit` runs
  zoo.classification.train_classifier (phase 1 on cached features when there is no
  augmentation, then fine-tuning), relaying its epochs to the Keras callbacks.
  Hyperband's continued trials start again from scratch on this path.
"""

from __future__ import annotations

import dataclasses

import keras
import keras_tuner
import tensorflow as tf

from zoo.backbones import backbone_info
from zoo.errors import UnknownBackboneError
from zoo.classification import FeatureCache, TrainConfig, compute_features, dataset_digest
from zoo.errors import TuningError
from zoo.classification.search.space import DIMENSIONS, SearchSpace


class _StopTrial(Exception):
    """Unwinds train_classifier when a callback asked to stop (median rule)."""


class ClassifierHyperModel(keras_tuner.HyperModel):
    """Search over zoo classifiers for one data set.

    Args:
        num_classes: number of classes (at least 2).
        image_size: input side in pixels; at least every backbone's minimum.
        backbones: the backbones to choose from (names from `zoo list`).
        weights: "imagenet", None, or a weights file, for every backbone.
        overrides: fix or narrow dimensions of the space; see zoo.classification.search.space.
        base_config: values of everything not tuned (patience, seed,
            fine_tune_epochs...) and of the dimensions fixed by default
            (batch_size, epochs, fine_tune_blocks, augment).
        feature_cache: where backbone features are kept; one cache for all
            trials, so each backbone runs over the data once per search.
    """

    def __init__(self, num_classes: int, image_size: int,
                 backbones=("mobilenet_v3_small",), weights=None, overrides=None,
                 base_config: TrainConfig | None = None,
                 feature_cache: FeatureCache | None = None, name="zoo_classifier"):
        super().__init__(name=name, tunable=True)
        if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 2:
            raise TuningError(f"num_classes must be an integer of at least 2. "
                              f"Received: {num_classes!r}")
        if isinstance(backbones, str):
            backbones = [backbones]
        if not backbones:
            raise TuningError("Give at least one backbone to search over.")
        self.num_classes = num_classes
        self.image_size = int(image_size)
        self.weights = weights
        self.base_config = dataclasses.replace(
            base_config or TrainConfig(), image_size=self.image_size, weights=weights)
        self.space = SearchSpace(overrides, list(backbones), self.base_config)
        self._check_backbones()
        self.feature_cache = feature_cache or FeatureCache()
        # id(dataset) -> (dataset, digest): hashing the data once per search, not per
        # trial; the dataset is kept so that its id cannot be reused by another.
        self._digests: dict[int, tuple] = {}
        self._feature_tensors: dict[int, tuple] = {}  # id(Features) -> (Features, tensors)

    def _check_backbones(self) -> None:
        names = self.space.values_allowed("backbone")
        for name in names:
            try:
                spec = backbone_info(name)
            except UnknownBackboneError as exc:
                raise TuningError(str(exc)) from None
            if self.image_size < spec.min_size:
                raise TuningError(
                    f"Backbone {name!r} needs images of at least {spec.min_size} pixels; "
                    f"the search uses {self.image_size}. Raise --image-size or drop {name!r}.")
            depth = max(self.space.values_allowed("fine_tune_blocks"))
            if depth > len(spec.blocks):
                raise TuningError(
                    f"fine_tune_blocks reaches {depth}, but {name!r} has only "
                    f"{len(spec.blocks)} blocks.")

    # ------------------------------------------------------------------ space

    def declare_build_space(self, hp) -> dict:
        """Declare every build-time dimension; returns {name: value} for this trial."""
        return {name: self.space.declare(hp, name)
                for name, dim in DIMENSIONS.items() if dim.at_build}

    def config_for(self, hp, **fit_values) -> TrainConfig:
        """The TrainConfig a trial's hyperparameters describe.

        Args:
            hp: the trial's keras_tuner.HyperParameters.
            fit_values: values decided in `fit` (batch_size, epochs).
        """
        values = self.declare_build_space(hp)
        values.update(fit_values)
        return dataclasses.replace(self.base_config, **values)

    @staticmethod
    def uses_cached_features(config: TrainConfig) -> bool:
        return config.fine_tune_blocks == 0 and config.augment == 0.0

    # ------------------------------------------------------------------ build

    def build(self, hp):
        """The model for one trial: the head alone (cached path) or the classifier."""
        from zoo.classification.classifier import build_classifier
        from zoo.classification.heads import build_head
        from zoo.classification.trainer import compile_for_training

        config = self.config_for(hp)
        if self.uses_cached_features(config):
            model = build_head(config, backbone_info(config.backbone).feature_dim,
                               self.num_classes, name=f"head_{config.backbone}")
        else:
            keras.utils.set_random_seed(config.seed)  # as train_classifier would
            model = build_classifier(config.classifier, self.num_classes)
        compile_for_training(model, config.learning_rate, config)
        return model

    # ------------------------------------------------------------------ fit

    def fit(self, hp, model, x, validation_data=None, callbacks=None, verbose=0,
            epochs=None, initial_epoch=0, **kwargs):
        """Train one trial's model; returns its keras History.

        Args:
            hp: the trial's hyperparameters ("batch_size" and "epochs" are
                declared here).
            model: what `build(hp)` returned.
            x: the training data, batches of (uint8 images, integer labels).
            validation_data: the validation data, in the same form.
            callbacks: Keras callbacks, made for this trial.
            verbose: Keras verbosity.
            epochs: set by Hyperband (its budget for the trial); overrides hp.
            initial_epoch: set by Hyperband for a continued trial.
        """
        if validation_data is None:
            raise TuningError("A classifier search needs validation data: pass "
                              "validation_data=... to search().")
        fit_values = {"batch_size": self.space.declare(hp, "batch_size"),
                      "epochs": self.space.declare(hp, "epochs")}
        if epochs is not None:
            fit_values["epochs"] = int(epochs)
        config = self.config_for(hp, **fit_values)
        callbacks = list(callbacks or [])
        if self.uses_cached_features(config):
            return self._fit_head(config, model, x, validation_data, callbacks, verbose,
                                  initial_epoch)
        return self._fit_classifier(config, model, x, validation_data, callbacks, verbose)

    def _digest(self, dataset):
        key = id(dataset)
        if key not in self._digests:
            self._digests[key] = (dataset, dataset_digest(dataset))
        return self._digests[key][1]

    def features(self, config: TrainConfig, train, val):
        """Backbone features of train and val for `config`, from the shared cache."""
        return compute_features(config, train, val, self.feature_cache,
                                train_digest=self._digest(train).digest)

    def _tensors(self, features):
        """(features, one-hot labels) as tensors, made once per cache entry: a
        new copy per trial would cost a copy of the features per trial."""
        key = id(features)
        if key not in self._feature_tensors:
            self._feature_tensors[key] = (features, (
                tf.constant(features.features),
                tf.one_hot(features.labels.astype("int32"), self.num_classes)))
        return self._feature_tensors[key][1]

    def _fit_head(self, config, model, train, val, callbacks, verbose, initial_epoch):
        cached = self.features(config, train, val)
        train_xy, val_xy = self._tensors(cached.train), self._tensors(cached.val)
        if config.patience > 0:
            callbacks.append(keras.callbacks.EarlyStopping(patience=config.patience))
        keras.utils.set_random_seed(config.seed)
        return model.fit(
            _feature_dataset(train_xy, config.batch_size, config.seed),
            validation_data=_feature_dataset(val_xy, config.batch_size),
            epochs=config.epochs, initial_epoch=int(initial_epoch), callbacks=callbacks,
            verbose=verbose, shuffle=False)  # the dataset shuffles itself, with the seed

    def _fit_classifier(self, config, model, train, val, callbacks, verbose):
        from zoo.classification import train_classifier

        # train_classifier runs its own epoch loop, a phase at a time; relay
        # each epoch to the callbacks as Keras would, on the built model
        # (which they watch for stop_training), and keep the History that
        # keras-tuner scores.
        history = keras.callbacks.History()
        relayed = [history, *callbacks]
        for callback in relayed:
            callback.set_model(model)
            callback.on_train_begin()
        model.stop_training = False
        try:
            # The model build() made is trained: no second backbone.
            train_classifier(config, train, val, self.num_classes,
                             feature_cache=self.feature_cache,
                             callbacks=[_TrialRelay(relayed, model)], verbose=verbose,
                             train_digest=self._digest(train), model=model)
        except _StopTrial:
            pass
        for callback in relayed:
            callback.on_train_end()
        return history


class _TrialRelay(keras.callbacks.Callback):
    """Hands each epoch of train_classifier's two phases to a trial's callbacks.

    The phase and phase 1's length go into the logs, so that the trial
    records, at its best epoch, how many epochs of each phase led there
    (what a retrain on all data repeats). A callback that stops the trial
    (the median rule) ends both phases, not only the one running.
    """

    def __init__(self, relayed, built_model):
        super().__init__()
        self.relayed = relayed
        self.built_model = built_model  # the phases' fit models are views of it
        self.phase_1_epochs = 0

    def on_epoch_end(self, epoch, logs=None):
        logs = dict(logs or {})
        if logs.get("phase") == 1:
            self.phase_1_epochs = epoch + 1
        logs["phase_1_epochs"] = self.phase_1_epochs
        for callback in self.relayed:
            callback.on_epoch_end(epoch, dict(logs))
        if self.built_model.stop_training:
            raise _StopTrial()


def _feature_dataset(tensors, batch_size, seed=None):
    ds = tf.data.Dataset.from_tensor_slices(tensors)
    if seed is not None:
        ds = ds.shuffle(int(tensors[1].shape[0]), seed=seed)
    return ds.batch(batch_size).prefetch(tf.data.AUTOTUNE)

"""The one resumable training loop, for every model family.

`TrainingLoop.run` trains any compiled `keras.Model` with its own
`train_step` (a classifier, a GAN, a VAE), epoch by epoch:

- it drives the step itself with `strategy.run` and `strategy.reduce`, so the
  same code trains with no strategy, under `MirroredStrategy` and under
  `MultiWorkerMirroredStrategy`, where Keras 3's `fit()` fails
  (keras-team/keras#20585);
- it runs the Keras callbacks (progress bar, `MlflowMetricsCallback`, ...);
- it validates with the model's `test_step`, watches the metric it is told
  to (`val_loss` for a classifier, a validation L1 for a GAN...), stops
  early, no sooner than `min_epochs`, and says why;
- it keeps the best weights: in memory always, on disk too when it
  checkpoints;
- after each epoch it checkpoints any set of objects (models, optimizers,
  image pools...) with the loop's state, so that a run killed at any moment
  resumes where an uninterrupted one would be;
- when BatchNorm layers were trained it recomputes their statistics over
  training data before validating ("precise BN"), so that inference mode
  sees the statistics the weights were trained with.

Under a multi-worker strategy every worker runs the loop; only the chief
(`is_chief`) writes the checkpoints that count, the others write theirs to a
temporary folder, as TensorFlow's multi-worker guide does.
"""

from __future__ import annotations

import math
import shutil
import tempfile
import weakref
from dataclasses import dataclass

import keras
import numpy as np
import tensorflow as tf

from zoo.training.checkpoint import Checkpointer

# Precise BN: how many training examples its statistics are averaged over.
# A forward pass costs about a third of a training step, so 512 examples
# stay a small share of an epoch while averaging out batch noise.
PRECISE_BN_EXAMPLES = 512


@dataclass
class Monitor:
    """What early stopping and the best weights watch.

    Args:
        metric: a key of the epoch's logs, e.g. `"val_loss"` or `"val_psnr"`.
        mode: `"min"` or `"max"`: which way is better.
        patience: epochs without improvement before stopping; 0 never stops.
        min_epochs: no early stop before this many epochs, so a run is not
            ended before it could learn.
    """

    metric: str = "val_loss"
    mode: str = "min"
    patience: int = 3
    min_epochs: int = 0

    def __post_init__(self):
        if self.mode not in ("min", "max"):
            raise ValueError(f"mode must be 'min' or 'max'. Received: mode={self.mode!r}")

    def better(self, value: float, best: float | None) -> bool:
        if best is None:
            return not math.isnan(value)
        return value < best if self.mode == "min" else value > best


def new_state(**extra) -> dict:
    """The loop's JSON-serialisable state for a run that starts now."""
    return {"epoch": 0, "history": {}, "best": None, "best_epoch": None, "wait": 0,
            "stop_reason": None, **extra}


def is_chief(strategy=None) -> bool:
    """Whether this process writes what counts: logs, checkpoints, the model."""
    strategy = strategy or tf.distribute.get_strategy()
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not resolver.task_type:
        return True
    if resolver.task_type == "chief":
        return True
    has_chief = "chief" in resolver.cluster_spec().as_dict()
    return resolver.task_type == "worker" and resolver.task_id == 0 and not has_chief


def _all_layers(layer):
    for child in getattr(layer, "layers", []):
        yield child
        yield from _all_layers(child)


def trained_batchnorm(model) -> list:
    """The BatchNormalization layers of `model` that training updates."""
    return [layer for layer in _all_layers(model)
            if isinstance(layer, keras.layers.BatchNormalization) and layer.trainable]


# model -> its traced forward pass in training mode, traced once per model
# and set of trained BatchNorm layers, rather than once per epoch (a backbone
# takes seconds to trace).
_FORWARD = weakref.WeakKeyDictionary()


def _statistics_after_forward(model, layers):
    """A traced training-mode forward pass that returns the layers' new statistics
    (one call and one transfer per batch, not one per layer)."""
    traced = _FORWARD.setdefault(model, {})
    key = tuple(id(layer) for layer in layers)
    if key not in traced:
        def forward(x):
            model(x, training=True)
            return [(layer.moving_mean.value, layer.moving_variance.value) for layer in layers]

        traced[key] = tf.function(forward, reduce_retracing=True)
    return traced[key]


def recompute_batchnorm_statistics(model, dataset, max_examples: int = PRECISE_BN_EXAMPLES):
    """Precise BN: set trained BatchNorm statistics to their average over training data.

    With the weights fixed, `model` runs in training mode over up to
    `max_examples` examples of `dataset` (batches of inputs, or of (inputs,
    ...) tuples). Each BatchNorm layer's moving mean and variance become the
    average of its batch statistics. Dropout is switched off for the pass,
    which also leaves the dropout random state untouched (exact resume).

    Returns:
        The number of layers updated.
    """
    layers = trained_batchnorm(model)
    if not layers:
        return 0
    momenta = [layer.momentum for layer in layers]
    dropouts = [layer for layer in _all_layers(model) if isinstance(layer, keras.layers.Dropout)]
    rates = [layer.rate for layer in dropouts]
    sums = [[np.zeros(layer.moving_mean.shape), np.zeros(layer.moving_variance.shape)]
            for layer in layers]
    try:
        for layer in layers:
            layer.momentum = 0.0  # each pass leaves exactly its batch's statistics
        for layer in dropouts:
            layer.rate = 0.0
        forward = _statistics_after_forward(model, layers)
        seen, batches = 0, 0
        for batch in dataset:
            x = batch[0] if isinstance(batch, (tuple, list)) else batch
            for total, (mean, variance) in zip(sums, forward(x)):
                total[0] += mean.numpy()
                total[1] += variance.numpy()
            batches += 1
            seen += int(x.shape[0])
            if seen >= max_examples:
                break
    finally:
        for layer, momentum in zip(layers, momenta):
            layer.momentum = momentum
        for layer, rate in zip(dropouts, rates):
            layer.rate = rate
    if batches:
        for (mean, variance), layer in zip(sums, layers):
            layer.moving_mean.assign(mean / batches)
            layer.moving_variance.assign(variance / batches)
    return len(layers)


def _distribute(strategy, dataset):
    if dataset is None or strategy is tf.distribute.get_strategy():
        return dataset
    options = tf.data.Options()
    # Each worker keeps its share of every global batch, whatever the source.
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return strategy.experimental_distribute_dataset(dataset.with_options(options))


def prepare_for_steps(model, batch, strategy) -> None:
    """Create every variable the train step needs before the step is traced.

    Under a strategy, variables must be created in its scope, not inside a
    replica's step: the optimizer's slots, the compiled loss's and metrics'
    state. `fit()` does this in a private method; this uses public API on
    one batch. A model with its own needs (a GAN with two optimizers)
    defines `prepare_training(batch)` and it is called instead.
    """
    with strategy.scope():
        if hasattr(model, "prepare_training"):
            model.prepare_training(batch)
            return
        x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(batch)
        y_pred = model(x, training=False)
        optimizer = getattr(model, "optimizer", None)
        if optimizer is not None and not optimizer.built:
            optimizer.build(model.trainable_variables)
        if y is not None:
            model.compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=sample_weight)
            model.compute_metrics(x, y, y_pred, sample_weight=sample_weight)
        model.reset_metrics()


def _reduced(strategy, outputs) -> dict:
    return {key: strategy.reduce("MEAN", value, axis=None) for key, value in outputs.items()}


def build_step(model, strategy, step):
    """`step` (a model's train_step or test_step) as the loop runs it: traced
    once, run on every replica with `strategy.run`, its logs averaged over
    replicas; XLA-compiled when the model was compiled with jit_compile."""
    if getattr(model, "jit_compile", False):
        step = tf.function(step, jit_compile=True, reduce_retracing=True)

    def distributed(data):
        return _reduced(strategy, strategy.run(step, args=(data,)))

    return tf.function(distributed, reduce_retracing=True)


def _floats(logs) -> dict:
    return {key: float(keras.ops.convert_to_numpy(value)) for key, value in logs.items()}


def _learning_rate(optimizer) -> float | None:
    rate = getattr(optimizer, "learning_rate", None)
    if rate is None:
        return None
    return float(np.asarray(keras.ops.convert_to_numpy(rate)))


class TrainingLoop:
    """Epochs of any Keras model's `train_step`, resumable, under any strategy.

    Args:
        state: the loop's state, `new_state()` or one a checkpoint returned.
        monitor: what early stopping and the best weights watch.
        strategy: a `tf.distribute` strategy; default: the current one.
        checkpointer: where per-epoch checkpoints go; None keeps none (the
            best weights are then kept in memory only).
        callbacks: Keras callbacks, called as `fit` calls them: the one way
            per-epoch work (metrics to MLflow, sample grids) plugs in. An
            epoch's `on_epoch_end` sees its logs with the learning rate
            (`lr`) and comes before its checkpoint, so a kill between the
            two reports the epoch again rather than leaving a gap.
        verbose: 0 silent, 1 progress bar, 2 one line per epoch.
    """

    def __init__(self, state: dict, *, monitor: Monitor | None = None, strategy=None,
                 checkpointer: Checkpointer | None = None, callbacks=(), verbose: int = 2):
        self.state = state
        self.monitor = monitor or Monitor()
        self.strategy = strategy or tf.distribute.get_strategy()
        self.chief = is_chief(self.strategy)
        self._scratch = None
        if checkpointer is not None and not self.chief:
            # Workers other than the chief write too (collective reads need
            # every worker), but somewhere that is thrown away.
            self._scratch = tempfile.mkdtemp(prefix="zoo-worker-ckpt-")
            checkpointer = Checkpointer(self._scratch, keep=checkpointer.keep)
        self.checkpointer = checkpointer
        self.callbacks = list(callbacks)
        self.verbose = verbose
        self._best_weights = None

    def close(self) -> None:
        if self._scratch:
            shutil.rmtree(self._scratch, ignore_errors=True)

    def run(self, model, train_for_epoch, validation, until_epoch: int, *,
            checkpoint_objects: dict | None = None, best_model=None,
            batchnorm_data=None, epoch_labels: dict | None = None) -> bool:
        """Train from `state["epoch"]` up to `until_epoch` (exclusive).

        Args:
            model: a compiled Keras model; its `train_step` and `test_step` run.
            train_for_epoch: `epoch -> dataset`: an epoch's batches, shuffled
                with a seed of the epoch so a resumed run sees the same ones.
            validation: a dataset for `test_step`, or None.
            until_epoch: the epoch count to reach.
            checkpoint_objects: what each checkpoint holds; default the model
                and its optimizer.
            best_model: the model whose weights are "the best weights";
                default `model` (a classifier when `model` is its head).
            batchnorm_data: training inputs for precise BN; None skips it.
            epoch_labels: values the callbacks see in every epoch's logs of
                this call, e.g. a classifier's `{"phase": 2}`; they are not
                part of the history.

        Returns:
            True when early stopping (or a callback) ended the run.
        """
        state = self.state
        best_model = best_model or model
        objects = checkpoint_objects or {"model": model, "optimizer": model.optimizer}
        train_step = build_step(model, self.strategy, model.train_step)
        test_step = build_step(model, self.strategy, model.test_step)
        validation = _distribute(self.strategy, validation)
        callbacks = keras.callbacks.CallbackList(
            self.callbacks, add_history=False, add_progbar=self.verbose != 0, model=model,
            verbose=self.verbose, epochs=until_epoch, steps=None)
        if state["epoch"] < until_epoch:
            first = next(iter(train_for_epoch(state["epoch"]).take(1)))
            prepare_for_steps(model, first, self.strategy)
        model.stop_training = False
        stopped = False
        callbacks.on_train_begin()
        while state["epoch"] < until_epoch and not stopped:
            epoch = state["epoch"]
            callbacks.on_epoch_begin(epoch)
            logs = self._train_epoch(model, train_step, train_for_epoch(epoch), callbacks)
            if batchnorm_data is not None:
                recompute_batchnorm_statistics(model, batchnorm_data)
            if validation is not None:
                logs.update({f"val_{k}": v
                             for k, v in self._evaluate(model, test_step, validation).items()})
            rate = _learning_rate(getattr(model, "optimizer", None))
            if rate is not None:
                logs["lr"] = rate
            callbacks.on_epoch_end(epoch, {**logs, **(epoch_labels or {})})
            stopped = self._after_epoch(epoch, logs, best_model) or bool(model.stop_training)
            if self.checkpointer:
                self.checkpointer.save(objects, state)
        callbacks.on_train_end()
        return stopped

    def _train_epoch(self, model, step, dataset, callbacks) -> dict:
        model.reset_metrics()
        logs = {}
        for batch_index, batch in enumerate(_distribute(self.strategy, dataset)):
            callbacks.on_train_batch_begin(batch_index)
            logs = step(batch)
            callbacks.on_train_batch_end(batch_index, logs)
        return _floats(logs)

    def _evaluate(self, model, step, dataset) -> dict:
        model.reset_metrics()
        logs = {}
        for batch in dataset:
            logs = step(batch)
        return _floats(logs)

    def _after_epoch(self, epoch: int, logs: dict, best_model) -> bool:
        """Record the epoch, keep the best weights, and decide whether to stop."""
        state, monitor = self.state, self.monitor
        for key, value in logs.items():
            state["history"].setdefault(key, []).append(value)
        state["epoch"] = epoch + 1
        value = logs.get(monitor.metric)
        if value is None:
            raise KeyError(f"The monitored metric {monitor.metric!r} is not among the "
                           f"epoch's logs: {sorted(logs)}.")
        if monitor.better(value, state["best"]):
            state["best"], state["best_epoch"], state["wait"] = value, epoch, 0
            self._best_weights = best_model.get_weights()
            if self.checkpointer:
                self.checkpointer.save_best(best_model)
        else:
            state["wait"] += 1
        if monitor.patience > 0 and state["wait"] >= monitor.patience:
            if state["epoch"] >= monitor.min_epochs:
                state["stop_reason"] = (
                    f"early stop after epoch {epoch + 1}: {monitor.metric} has not improved for "
                    f"{state['wait']} epochs (best {state['best']:.4g} at epoch "
                    f"{state['best_epoch'] + 1})")
                print(f"[training] {state['stop_reason']}.")
                self._warn_if_flat()
                return True
        return False

    def _warn_if_flat(self) -> None:
        values = self.state["history"].get(self.monitor.metric, [])
        if len(values) >= 3 and max(values) - min(values) < 1e-3 * max(1.0, abs(values[0])):
            print(f"[training] warning: {self.monitor.metric} stayed at {values[0]:.4g} for "
                  f"{len(values)} epochs: the model may be predicting one answer for every "
                  f"input. Check the data and the learning rate before trusting this run.")

    def restore_best(self, best_model) -> bool:
        """Put the best weights back into `best_model`: from memory, else from disk."""
        if self._best_weights is not None:
            best_model.set_weights(self._best_weights)
            return True
        if self.checkpointer:
            return self.checkpointer.restore_best(best_model)
        return False

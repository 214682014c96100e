"""A Keras callback that logs each epoch's metrics to an MLflow run.

It lives apart from the rest of zoo.tracking because it must subclass
keras.callbacks.Callback, and importing Keras imports TensorFlow (seconds);
`import zoo.tracking` stays light and loads this module on first use of
MlflowMetricsCallback.

The metrics go through a zoo.tracking.spool.MetricSpool, the one way zoo
sends metrics: each epoch's values are written to a file and sent by a
background thread, so an unreachable tracking server never holds up an
epoch, and what it could not take is sent later, in order.

Why not mlflow.keras.autolog: its callback logs validation metrics at step 0
instead of at the epoch, and restarts steps in every fit() call, so a
fine-tuning phase would overwrite the first phase's curve.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from pathlib import Path

import keras

from zoo.errors import TrackingError

_log = logging.getLogger(__name__)

# Where a callback that is given no folder keeps the metrics the server has
# not taken yet (relative to the working directory, like MLflow's own
# default store).
DEFAULT_SPOOL_FOLDER = Path("runs") / "unsent-metrics"


class MlflowMetricsCallback(keras.callbacks.Callback):
    """Log every value of an epoch's `logs` (and the learning rate) at one step.

    This is the one way zoo logs per-epoch values, for `model.fit`, for zoo's
    own training loop, for recipes and for tuning trials alike, and so under
    one set of names (`zoo.tracking.names.epoch_metrics`): `epoch/loss`,
    `epoch/val_accuracy`, then `lr` and `phase`.

    The step is `epoch + initial_epoch_offset`, where `epoch` is what Keras
    passes: it already counts from fit(initial_epoch=...). A second training
    phase run as `fit(..., initial_epoch=phase1_epochs)`, or a resumed run
    started at its checkpoint's epoch, therefore continues the curves with no
    offset. Training and validation values ("loss", "val_loss") share the
    step and the timestamp, and reach the run in one log_batch call.

    Logging never waits on the tracking server: the values are queued in a
    MetricSpool (on disk) and sent in the background. At the end of fit() the
    callback gives its own spool a short while to send what is left; what
    the server still has not taken stays in the spool file, and a warning
    gives the `zoo tracking flush FILE` command that sends it.

    Args:
        run_id: the run to log to; default: the active run when training starts.
        client: an MlflowClient; default: one for the current tracking URI.
        initial_epoch_offset: added to each epoch number, for a phase whose
            fit() counts its epochs from 0.
        prefix: put before each curve's name, after `epoch/`: a second model
            trained in the same run (a baseline) gets curves of its own.
        only: log only the values whose key starts with this (e.g. "val_").
        log_learning_rate: also log the optimizer's current learning rate as
            "lr" (the rate after the epoch's last step, with schedules) when
            the logs do not carry it.
        logged_through: what the run already holds, which an interrupted
            attempt logged and a resume trains again: a step (nothing up to
            it is logged), or {metric name: its last step}. MLflow cannot
            delete points, so each curve keeps one point per epoch. None logs
            every step.
        on_logged: `on_logged(epoch, model)` after each epoch this callback
            logged (not one the run already held), with the model being
            trained: e.g. a sample grid per epoch.
        spool: a MetricSpool of the run to share (its owner closes it);
            default: one the callback opens in `spool_folder` and closes at
            the end of fit().
        spool_folder: where the callback's own spool file lives (default
            `runs/unsent-metrics` in the working directory).
    """

    def __init__(self, run_id: str | None = None, client=None, initial_epoch_offset: int = 0,
                 prefix: str = "", only: str = "", log_learning_rate: bool = True,
                 logged_through: int | Mapping[str, int] | None = None,
                 on_logged: Callable | None = None, spool=None, spool_folder=None):
        super().__init__()
        self.run_id = run_id
        self.client = client
        self.initial_epoch_offset = int(initial_epoch_offset)
        self.prefix = prefix
        self.only = only
        self.log_learning_rate = log_learning_rate
        self.logged_through = logged_through
        self.on_logged = on_logged
        self.spool = spool
        self.spool_folder = Path(spool_folder) if spool_folder else DEFAULT_SPOOL_FOLDER
        self._owns_spool = spool is None
        self.unsent = 0  # records the server had not taken at the end of the last fit()

    def on_train_begin(self, logs=None):
        import mlflow

        from zoo.tracking.spool import MetricSpool

        if self.run_id is None:
            active = mlflow.active_run()
            if active is None:
                raise TrackingError("MlflowMetricsCallback has no run: train inside "
                                    "zoo.tracking.tracked_run(...) or pass run_id=.")
            self.run_id = active.info.run_id
        if self.spool is None:
            # A spool file an earlier fit() left is read back and sent first.
            self.spool = MetricSpool.for_run(
                self.spool_folder, self.run_id, client=self.client,
                tracking_uri=getattr(self.client, "tracking_uri", None))

    def on_epoch_end(self, epoch, logs=None):
        from zoo.tracking.names import epoch_metrics

        step = int(epoch) + self.initial_epoch_offset
        values = {key: value for key, value in (logs or {}).items()
                  if key.startswith(self.only)}
        if self.log_learning_rate and not self.only and "lr" not in values:
            values["lr"] = self._learning_rate()
        values = {key: _scalar(value) for key, value in
                  epoch_metrics(values, prefix=self.prefix).items()
                  if step > self._last_logged(key)}
        if not values:
            return
        self.spool.log_metrics(values, step=step)  # returns once the values are on disk
        if self.on_logged is not None:
            self.on_logged(int(epoch), self.model)

    def _last_logged(self, key: str) -> int:
        if self.logged_through is None:
            return -1
        if isinstance(self.logged_through, Mapping):
            return self.logged_through.get(key, -1)
        return int(self.logged_through)

    def on_train_end(self, logs=None):
        if not self._owns_spool or self.spool is None:
            return
        spool, self.spool = self.spool, None
        self.unsent = spool.close()
        if self.unsent:
            _log.warning("%d metric records of run %s could not reach the tracking server; "
                         "they wait in %s. Send them with: zoo tracking flush %s",
                         self.unsent, self.run_id, spool.path.resolve(), spool.path.resolve())

    def _learning_rate(self) -> float | None:
        optimizer = getattr(self.model, "optimizer", None)
        if optimizer is None or not hasattr(optimizer, "learning_rate"):
            return None
        # Keras 3 evaluates a schedule at the current iteration here.
        return _scalar(optimizer.learning_rate)


def _scalar(value) -> float | None:
    """A float for MLflow (NaN included: it shows where training diverged), or None
    for values that are not one number."""
    try:
        return float(keras.ops.convert_to_numpy(value))
    except (TypeError, ValueError):
        return None

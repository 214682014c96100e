"""A Keras callback that logs each epoch's metrics to an MLflow run.

It lives apart from the rest of zoo.tracking because it must subclass
keras.callbacks.Callback, and importing Keras imports TensorFlow (seconds);
`import zoo.tracking` stays light and loads this module on first use of
MlflowMetricsCallback.

Why not mlflow.keras.autolog: its callback logs validation metrics at step 0
instead of at the epoch, and restarts steps in every fit() call, so a
fine-tuning phase would overwrite the first phase's curve.
"""

from __future__ import annotations

import time

import keras

from zoo.tracking.errors import TrackingError


class MlflowMetricsCallback(keras.callbacks.Callback):
    """Log every value of an epoch's `logs` (and the learning rate) at one step.

    The step is `epoch + initial_epoch_offset`, where `epoch` is what Keras
    passes: it already counts from fit(initial_epoch=...). A second training
    phase run as `fit(..., initial_epoch=phase1_epochs)`, or a resumed run
    started at its checkpoint's epoch, therefore continues the curves with no
    offset. Training and validation values ("loss", "val_loss") share the
    step, and all of an epoch's values go in one log_batch call.

    Args:
        run_id: the run to log to; default: the active run when training starts.
        client: an MlflowClient; default: one for the current tracking URI.
        initial_epoch_offset: added to each epoch number, for a phase whose
            fit() counts its epochs from 0.
        prefix: put before every metric name, e.g. "finetune/".
        log_learning_rate: also log the optimizer's current learning rate as
            "lr" (the rate after the epoch's last step, with schedules).
        logged_through: skip steps up to this one, which the run already
            holds (an interrupted attempt logged them); None logs every step.
    """

    def __init__(self, run_id: str | None = None, client=None, initial_epoch_offset: int = 0,
                 prefix: str = "", log_learning_rate: bool = True,
                 logged_through: int | None = None):
        super().__init__()
        self.run_id = run_id
        self.client = client
        self.initial_epoch_offset = int(initial_epoch_offset)
        self.prefix = prefix
        self.log_learning_rate = log_learning_rate
        self.logged_through = logged_through

    def on_train_begin(self, logs=None):
        import mlflow

        if self.run_id is None:
            active = mlflow.active_run()
            if active is None:
                raise TrackingError("MlflowMetricsCallback has no run: train inside "
                                    "zoo.tracking.tracked_run(...) or pass run_id=.")
            self.run_id = active.info.run_id
        if self.client is None:
            self.client = mlflow.MlflowClient()

    def on_epoch_end(self, epoch, logs=None):
        from mlflow.entities import Metric

        step = int(epoch) + self.initial_epoch_offset
        if self.logged_through is not None and step <= self.logged_through:
            return
        values = {key: _scalar(value) for key, value in (logs or {}).items()}
        if self.log_learning_rate:
            values["lr"] = self._learning_rate()
        timestamp = int(time.time() * 1000)
        metrics = [Metric(self.prefix + key, value, timestamp, step)
                   for key, value in values.items() if value is not None]
        if metrics:
            self.client.log_batch(self.run_id, metrics=metrics)

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

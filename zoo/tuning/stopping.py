"""Early stopping of hopeless trials, for every tuner: the median rule.

After epoch e (once past a warm-up), a trial stops when its best objective
so far is worse than the median of the best-so-far values that earlier,
finished trials had reached by epoch e. Best-so-far rather than the value at
epoch e alone, so that one noisy epoch does not end a good trial (this is the
rule of Google Vizier's median stopping, on running bests).

The per-epoch objective of finished trials comes from the tracking server:
the curves of the search's finished child runs (SearchRuns.finished_histories),
so every worker, on whatever machine, and a resumed search see the same
history without sharing a folder.
"""

from __future__ import annotations

import statistics

import keras


def running_best(series, epoch: int, direction: str):
    """The best value of `series` up to and including `epoch`, or None."""
    seen = [v for v in series[:epoch + 1] if v is not None]
    if not seen:
        return None
    return max(seen) if direction == "max" else min(seen)


def median_rule_stops(current: dict[int, float], epoch: int, finished: dict[str, list],
                      direction: str, warmup_epochs: int = 2, min_trials: int = 2) -> bool:
    """Whether the median rule stops a trial after `epoch`.

    Args:
        current: the running trial's objective by epoch so far.
        epoch: the epoch just finished (0-based).
        finished: {trial_id: [value per epoch]} of finished trials
            (SearchRuns.finished_histories).
        direction: "max" or "min", the objective's.
        warmup_epochs: never stop before this many epochs are done.
        min_trials: how many finished trials must have reached `epoch`.
    """
    if epoch + 1 < warmup_epochs:
        return False
    mine = running_best([current.get(e) for e in range(epoch + 1)], epoch, direction)
    if mine is None:
        return False
    others = [running_best(series, epoch, direction) for series in finished.values()
              if len(series) > epoch]
    others = [v for v in others if v is not None]
    if len(others) < min_trials:
        return False
    median = statistics.median(others)
    return mine < median if direction == "max" else mine > median


class MedianStopping(keras.callbacks.Callback):
    """Stop a trial whose objective falls below the median of finished trials.

    Made anew for each trial (never deep-copied across trials), with a
    snapshot of the finished trials' histories taken when the trial starts.

    Args:
        objective: the metric name, e.g. "val_accuracy".
        direction: "max" or "min".
        finished: {trial_id: [value per epoch]} of finished trials.
        warmup_epochs, min_trials: see median_rule_stops; warmup_epochs=None
            turns the rule off (the callback then only records the objective).
    """

    def __init__(self, objective: str, direction: str, finished: dict,
                 warmup_epochs: int | None = 2,
                 min_trials: int = 2):
        super().__init__()
        self.objective = objective
        self.direction = direction
        self.finished = finished
        self.warmup_epochs = warmup_epochs
        self.min_trials = min_trials
        self.values: dict[int, float] = {}
        self.stopped_epoch: int | None = None

    def on_epoch_end(self, epoch, logs=None):
        value = (logs or {}).get(self.objective)
        if value is None:
            return
        self.values[int(epoch)] = float(value)
        on = self.warmup_epochs is not None
        if on and median_rule_stops(self.values, int(epoch), self.finished, self.direction,
                                    self.warmup_epochs, self.min_trials):
            self.stopped_epoch = int(epoch)
            self.model.stop_training = True

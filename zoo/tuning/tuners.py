"""keras-tuner's own tuners, with zoo's trial loop: MLflow child runs, the
median stopping rule, failed trials that do not end the search, and memory
released between trials.

    tuner = make_tuner("bayesian", hypermodel, project_dir="runs/tune/digits",
                       max_trials=20, runs=SearchRuns(...))
    tuner.search(train, validation_data=val, verbose=0)

`RandomSearch`, `Hyperband` and `BayesianOptimization` are keras-tuner's
classes with `ZooTuner` mixed in; their oracles (and so resume and the
distributed chief/worker mode) are keras-tuner's, untouched. In a
distributed search the chief serves the oracle with a bound on how long it
waits for workers, and each worker reports that it is alive while it trains
(zoo.tuning.distributed).
"""

from __future__ import annotations

import gc
import os
import time
import traceback
import warnings
from pathlib import Path

import keras
import keras_tuner

from zoo import compat
from zoo.tuning.distributed import reporting_alive, serve_oracle
from zoo.errors import TuningError
from zoo.tuning.settings import DEFAULT_WORKER_TIMEOUT
from zoo.tuning.leaderboard import MISSING
from zoo.tuning.run_tree import SearchRuns, series_by_epoch, trial_run_name
from zoo.tuning.stopping import MedianStopping

TUNERS = ("random", "hyperband", "bayesian")
# Hyperband's own hyperparameters; listed so that every child run has them all.
HYPERBAND_KEYS = ("tuner/epochs", "tuner/initial_epoch", "tuner/bracket", "tuner/round",
                  "tuner/trial_id")

# The trial loop below calls and overrides private keras-tuner methods: a
# keras-tuner that moved them fails here, with its version named.
compat.check_keras_tuner()


def _quiet_failed_trials() -> None:
    """Stop keras-tuner printing each failed trial's traceback to stderr (its
    `config.DEBUG` is on by default): zoo keeps the traceback in the trial's
    run (traceback.txt) and prints one line with the error."""
    try:
        from keras_tuner.src import config
    except ImportError:  # a keras-tuner that moved it prints them; nothing breaks
        return
    config.DEBUG = False


_quiet_failed_trials()


class ZooTuner(keras_tuner.Tuner):
    """The trial loop every zoo tuner shares; see the module docstring.

    Callbacks that talk to MLflow are made here, per trial, never passed to
    `search()`: keras-tuner deep-copies the callbacks given to `search()`
    for each trial, and a copied MLflow client or run handle breaks.

    Args:
        oracle, hypermodel, **kwargs: as keras_tuner.Tuner.
        runs: the search's MLflow run tree; None logs nothing to MLflow.
        median_stopping: stop trials below the median of finished ones.
        warmup_epochs, min_trials: of the median rule (zoo.tuning.stopping).
        progress: called with one line of text per finished trial.
        worker_timeout: a chief's bound on waiting for its workers (seconds).
    """

    def __init__(self, oracle, hypermodel=None, *, runs: SearchRuns | None = None,
                 median_stopping: bool = True, warmup_epochs: int = 2, min_trials: int = 2,
                 progress=print, worker_timeout: float = DEFAULT_WORKER_TIMEOUT, **kwargs):
        super().__init__(oracle=oracle, hypermodel=hypermodel, **kwargs)
        self.runs = runs
        self.worker_timeout = worker_timeout
        if runs is not None:
            runs.worker = self.tuner_id
        self.median_stopping = median_stopping
        self.warmup_epochs = warmup_epochs
        self.min_trials = min_trials
        self.progress = progress or (lambda line: None)
        # Without MLflow (runs=None) the median rule compares with this
        # process's own finished trials.
        self._local_histories: dict[str, list] = {}
        # trial_id -> (run_id, stopper, start time, custom gradients before the trial)
        self._running: dict[str, tuple] = {}
        self._errors: dict[str, str] = {}  # trial_id -> its error in one line

    def search(self, *fit_args, **fit_kwargs):
        """keras-tuner's search; a chief serves the oracle (with a bound on
        its wait, see serve_oracle), a worker reports while it trains."""
        if compat.is_chief():
            if "verbose" in fit_kwargs:
                self.oracle.verbose = fit_kwargs["verbose"]
            self.save()
            serve_oracle(self.oracle, worker_timeout=self.worker_timeout)
            return
        if compat.is_distributed():
            with reporting_alive(self.oracle):
                return super().search(*fit_args, **fit_kwargs)
        return super().search(*fit_args, **fit_kwargs)

    @property
    def objective(self):
        objective = self.oracle.objective
        if isinstance(objective, list) or not hasattr(objective, "direction"):
            raise TuningError("zoo tuners take one objective, e.g. 'val_accuracy'.")
        return objective

    def run_trial(self, trial, *args, **kwargs):
        trial_id = trial.trial_id
        run_id = self.runs.start_trial(trial_id) if self.runs else None
        objective = self.objective
        finished = (self.runs.finished_histories(objective.name) if self.runs
                    else dict(self._local_histories))
        stopper = MedianStopping(
            objective.name, objective.direction, finished,
            warmup_epochs=self.warmup_epochs if self.median_stopping else None,
            min_trials=self.min_trials)
        self._running[trial_id] = (run_id, stopper, time.monotonic(), _custom_gradient_names())

        callbacks = compat.tuner_deepcopy_callbacks(self, kwargs.pop("callbacks", []))
        callbacks.append(stopper)
        if run_id:
            from zoo.tracking.callback import MlflowMetricsCallback

            # Metrics wait in the project folder while the server is away;
            # the callback sends what it can before the trial's run ends.
            callbacks.append(MlflowMetricsCallback(
                run_id=run_id, client=self.runs.client,
                logged_through=self.runs.last_logged_step(run_id),
                spool_folder=self.runs.path.parent))
        if self._trains_built_model(trial.hyperparameters):
            # The best epoch's weights: what Hyperband's continued trials start from.
            callbacks.append(compat.save_best_epoch(
                objective, compat.tuner_checkpoint_path(self, trial_id)))
        try:
            return compat.tuner_build_and_fit(self, trial, *args, callbacks=callbacks, **kwargs)
        except Exception as exc:
            # keras-tuner records a FailedTrialError as a FAILED trial and goes
            # on with the next one; the child run gets the real traceback.
            error = f"{type(exc).__name__}: {exc}"
            self._errors[trial_id] = error
            if run_id:
                self.runs.fail_trial(run_id, traceback.format_exc(), error=error)
            raise keras_tuner.errors.FailedTrialError(
                f"Trial {trial_id} failed: {error}") from exc
        except BaseException:  # Ctrl-C or SIGTERM: the run is KILLED, a resume reopens it
            if run_id:
                self.runs.kill_trial(run_id, traceback.format_exc())
            self._running.pop(trial_id, None)
            raise

    def _trains_built_model(self, hp) -> bool:
        hypermodel = self.hypermodel
        if not hasattr(hypermodel, "uses_cached_features"):
            return True
        return hypermodel.uses_cached_features(hypermodel.config_for(hp.copy()))

    def on_trial_end(self, trial):
        run_id, stopper, started, gradients_before = self._running.pop(
            trial.trial_id, (None, None, None, None))
        error = self._errors.pop(trial.trial_id, None)
        try:
            super().on_trial_end(trial)  # the oracle scores the trial and saves itself
        finally:
            try:
                if run_id:
                    self._finish_run(trial, run_id, stopper, started, error)
                elif stopper is not None and _status(trial) == "COMPLETED":
                    self._local_histories[trial.trial_id] = series_by_epoch(stopper.values)
            finally:
                # A search of hundreds of trials must not grow: drop the
                # trial's graphs and models now, not at the next build.
                keras.backend.clear_session()
                _forget_custom_gradients(gradients_before)
                gc.collect()
                _return_freed_memory()

    def _finish_run(self, trial, run_id, stopper, started, error=None) -> None:
        final = self.oracle.get_trial(trial.trial_id)
        status = _status(final)
        stopped = stopper.stopped_epoch is not None
        self.runs.end_trial(run_id, status, self.hp_values(final.hyperparameters),
                            score=final.score, best_step=final.best_step,
                            stopped_early=stopped)
        rows = self.runs.log_leaderboard(self.objective.direction)
        total = self.oracle.max_trials
        score = "" if final.score is None else f" {self.objective.name}={final.score:.4f}"
        self.progress(f"[{len(rows)}/{total or '?'}] {trial_run_name(trial.trial_id)} "
                      f"{status.lower()}{' (stopped early)' if stopped else ''}{score} "
                      f"in {time.monotonic() - started:.1f} s{f': {error}' if error else ''}")

    def hp_names(self) -> list[str]:
        """Every hyperparameter name of the search, for the hp.* params."""
        names = {hp.name for hp in self.oracle.get_space().space}
        if isinstance(self, Hyperband):
            names.update(HYPERBAND_KEYS)
        return sorted(names)

    def hp_values(self, hyperparameters) -> dict:
        values = {name: MISSING for name in self.hp_names()}
        values.update(hyperparameters.values)
        return values


class RandomSearch(keras_tuner.RandomSearch, ZooTuner):
    """keras_tuner.RandomSearch with zoo's trial loop."""


class BayesianOptimization(keras_tuner.BayesianOptimization, ZooTuner):
    """keras_tuner.BayesianOptimization with zoo's trial loop."""


class Hyperband(keras_tuner.Hyperband, ZooTuner):
    """keras_tuner.Hyperband with zoo's trial loop.

    A continued trial starts from its parent trial's best epoch, weights and
    optimizer state, when they are there (heads on cached features); a
    full-classifier trial, or one whose parent ran on another machine,
    trains from scratch instead of failing.
    """

    def _build_hypermodel(self, hp):
        model = compat.tuner_build_hypermodel(self, hp)
        parent = hp.values.get("tuner/trial_id")
        checkpoint = parent is not None and compat.tuner_checkpoint_path(self, parent)
        if checkpoint and os.path.exists(checkpoint):
            # keras-tuner loads into an unbuilt optimizer, which drops the
            # saved Adam moments; built first, it takes them.
            if model.optimizer is not None:
                model.optimizer.build(model.trainable_variables)
            model.load_weights(checkpoint)
        return model


def _status(trial) -> str:
    """A keras-tuner trial's status as text: COMPLETED, FAILED, INVALID..."""
    return str(getattr(trial.status, "value", trial.status))


def _gradient_registry() -> dict | None:
    """TensorFlow's gradient registry; None (after one warning) where it has moved.

    Dropping a trial's gradients only saves memory, so a TensorFlow that
    moved the registry warns and searches on.
    """
    try:
        return compat.custom_gradient_registry()
    except compat.CompatError as exc:
        warnings.warn(f"{exc} Each trial will keep about 9 MiB alive.", stacklevel=2)
        return None


def _custom_gradient_names() -> set | None:
    registry = _gradient_registry()
    return None if registry is None else {n for n in registry if n.startswith("CustomGradient-")}


def _forget_custom_gradients(before: set | None) -> None:
    """Drop the custom gradients a finished trial registered in TensorFlow.

    Keras's TensorFlow optimizer sums gradients through tf.distribute, whose
    graph-mode tf.custom_gradient registers a gradient function in a global
    registry at every trace, and never removes it; the function's closure
    holds the trial's whole train-step graph. Each trial would keep about
    9 MiB alive that way. Once the trial's models are gone nothing can ask
    for those gradients again, so the entries go.
    """
    registry = _gradient_registry()
    if registry is None or before is None:
        return
    for name in [n for n in registry if n.startswith("CustomGradient-") and n not in before]:
        del registry[name]


def _return_freed_memory() -> None:
    """Hand freed heap pages back to the OS (glibc only).

    After gc, glibc keeps freed blocks in its arenas, and TensorFlow's many
    threads each have one: RSS then creeps up trial after trial although
    nothing is alive. malloc_trim releases them; elsewhere this does nothing.
    """
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def parse_objective(text: str):
    """"val_accuracy", "val_loss" or "NAME:min|max" as a keras_tuner.Objective.

    Without a direction, names with "loss" or "error" are minimised, others maximised.
    """
    name, _, direction = str(text).partition(":")
    name = name.strip()
    if not name:
        raise TuningError("The objective needs a metric name, e.g. val_accuracy.")
    if not direction:
        direction = "min" if ("loss" in name or "error" in name) else "max"
    if direction not in ("min", "max"):
        raise TuningError(f"An objective's direction is min or max. Received: {text!r}")
    return keras_tuner.Objective(name, direction)


def initial_points(hypermodel, max_trials: int) -> int | None:
    """Random trials before Bayesian optimisation fits its Gaussian process.

    keras-tuner's default, 3 per dimension, counts pinned (hp.Fixed)
    dimensions too; with zoo's space, where most are pinned, a search of
    tens of trials would then never leave random sampling. This counts only
    the tunable dimensions, and keeps at least half the trials for the
    Gaussian process.
    """
    space = getattr(hypermodel, "space", None)
    if space is None:
        return None  # keras-tuner's default
    return max(2, min(3 * len(space.tunable_names()), max_trials // 2))


def make_tuner(name: str, hypermodel, project_dir, *, objective="val_accuracy",
               max_trials: int = 10, max_epochs: int = 10, seed: int | None = None,
               runs: SearchRuns | None = None, max_consecutive_failed_trials: int = 5,
               hyperband_factor: int = 3, **zoo_options):
    """One of keras-tuner's tuners, by name, on a project directory.

    The project is reloaded when it exists (`overwrite=False`): completed
    trials are not run again.

    Args:
        name: "random", "hyperband" or "bayesian".
        hypermodel: a keras_tuner.HyperModel (e.g. ClassifierHyperModel).
        project_dir: the search's folder: keras-tuner's trials and oracle
            (the chief's), mlflow_runs.json.
        objective: e.g. "val_accuracy" (max) or "val_loss" (min); see parse_objective.
        max_trials: trials at most (random and bayesian).
        max_epochs: Hyperband's largest budget per trial.
        seed: the oracle's random seed.
        runs: the MLflow run tree (zoo.tuning.run_tree.SearchRuns).
        max_consecutive_failed_trials: the search gives up after this many
            failures in a row (one failure never ends it).
        hyperband_factor: Hyperband's reduction factor.
        zoo_options: ZooTuner's own (median_stopping, warmup_epochs, ...).
    """
    if name not in TUNERS:
        raise TuningError(f"Unknown tuner {name!r}; choose one of {', '.join(TUNERS)}.")
    if max_trials < 1:
        raise TuningError(f"max_trials must be at least 1. Received: {max_trials}")
    project_dir = Path(project_dir).resolve()
    common = dict(hypermodel=hypermodel, objective=parse_objective(objective), seed=seed,
                  directory=str(project_dir.parent), project_name=project_dir.name,
                  overwrite=False, max_consecutive_failed_trials=max_consecutive_failed_trials,
                  runs=runs, **zoo_options)
    if name == "random":
        return RandomSearch(max_trials=max_trials, **common)
    if name == "bayesian":
        return BayesianOptimization(
            max_trials=max_trials,
            num_initial_points=initial_points(hypermodel, max_trials), **common)
    if max_epochs < 2:
        raise TuningError("Hyperband needs --epochs of at least 2 (its largest budget).")
    return Hyperband(max_epochs=max_epochs, factor=hyperband_factor, **common)

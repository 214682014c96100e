"""`run_search(options)`: a whole search, from data to registered model.

    1. data: train / validation (and test, when the source has one)
    2. the hypermodel: space, backbones, a feature cache shared by the trials
    3. the parent MLflow run (created once, reopened on resume)
    4. keras-tuner's search, one child run per trial
    5. leaderboard, best hyperparameters, the best configuration retrained

The recipe (recipes/tune_classifier.py) and `zoo tune` both call it. In a
distributed search the chief does 1-3, serves the oracle during 4 and does 5;
each worker does 1, 2 and 4, logging child runs under the chief's parent,
which it finds on the tracking server by the oracle's address (or by
--search-name). A chief that hears from no worker for --worker-timeout
seconds ends with WorkersGoneError, its parent run FAILED.

A search in which no trial succeeds ends with SearchFailedError: how many
failed and the first error with its run id; the parent run ends FAILED.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from zoo.errors import SearchFailedError, TuningError, WorkersGoneError
from zoo.classification.search.options import EXPERIMENT, SearchOptions, search_name
from zoo.classification.search.result import SearchResult, save_result

# keras-tuner's oracle gives up with this RuntimeError after too many failed trials in a row.
_TOO_MANY_FAILURES = "Number of consecutive failures exceeded the limit"


def run_search(options: SearchOptions, hypermodel_class=None, progress=print) -> SearchResult:
    """Run (or resume, or take part in) a search; see the module docstring.

    Args:
        options: the search's settings.
        hypermodel_class: a ClassifierHyperModel subclass to use instead (tests).
        progress: prints one line per finished trial and step.
    """
    import sys

    from zoo.tuning.addresses import oracle_address
    from zoo.tuning.distributed import (
        DEFAULT_ORACLE_PORT,
        configure_role,
        oracle_exposure_warning,
    )

    configure_role(options.role, options.worker_id, options.oracle_port or DEFAULT_ORACLE_PORT,
                   options.oracle_host)
    uri = _tracking_uri(options)
    from zoo.tracking import require_reachable

    require_reachable(uri)  # before the data is read: a server that is down costs nothing
    warning = oracle_exposure_warning(options.oracle_host) if options.role == "chief" else None
    if warning:
        print(warning, file=sys.stderr, flush=True)

    import keras_tuner  # noqa: F401  (after the role's environment is set)

    from zoo import tracking
    from zoo.data import load_splits
    from zoo.weights import resolve_weights
    from zoo.classification import FeatureCache, TrainConfig
    from zoo.classification.search.hypermodel import ClassifierHyperModel
    from zoo.tuning.run_tree import (
        TAG_CHIEF_HOST,
        TAG_OPENED,
        TAG_ORACLE,
        TAG_SEARCH_NAME,
        SearchRuns,
    )
    from zoo.tuning.tuners import make_tuner

    # 1. Data, unshuffled: each trial shuffles with its seed. Workers score
    #    no test split.
    data = load_splits(options.data, options.image_size, options.batch_size, options.seed,
                       with_test=options.role != "worker")
    train, val, test, class_names = data.train, data.val, data.test, data.class_names

    # 2. The hypermodel.
    weights = resolve_weights(options.weights, options.backbones, lambda error: progress(
        "[weights] ImageNet weights are not available here: the backbones keep their random "
        "weights (frozen), so scores show the search, not real accuracy."))
    base = TrainConfig(image_size=options.image_size, weights=weights, epochs=options.epochs,
                       batch_size=options.batch_size, seed=options.seed)
    cache = FeatureCache()
    hypermodel = (hypermodel_class or ClassifierHyperModel)(
        len(class_names), options.image_size, options.backbones, weights=weights,
        overrides=options.space, base_config=base, feature_cache=cache)

    project_dir = Path(options.project_dir).resolve()
    runs = SearchRuns(project_dir, uri)

    def tuner():
        return make_tuner(options.tuner, hypermodel, project_dir, objective=options.objective,
                          max_trials=options.max_trials, max_epochs=options.epochs,
                          seed=options.seed, runs=runs, progress=progress,
                          median_stopping=options.median_stopping,
                          warmup_epochs=options.warmup_epochs,
                          max_consecutive_failed_trials=options.max_consecutive_failed_trials,
                          worker_timeout=options.worker_timeout)

    name = search_name(options)
    oracle = oracle_address(options.oracle_host, options.oracle_port or DEFAULT_ORACLE_PORT)
    if options.role == "worker":
        # 4 (worker): trials from the chief's oracle, under the chief's parent
        # run, found on the tracking server by the oracle's address (folder
        # names differ between machines): no file is shared with the chief.
        parent_id = runs.find_parent(options.experiment, oracle=oracle,
                                     name=options.search_name)
        found = runs.client.get_run(parent_id).data.tags.get(TAG_SEARCH_NAME, "?")
        progress(f"Worker {options.worker_id}: search '{found}', parent run {parent_id}, "
                 f"oracle {oracle}.")
        search = tuner()
        search.search(train, validation_data=val, verbose=options.verbose)
        rows = runs.log_leaderboard(search.objective.direction)
        return SearchResult(runs.parent_run_id, uri, rows)

    # 3. The parent run: the one in the project's mapping when resuming.
    import socket
    import time

    tags = tracking.standard_tags(EXPERIMENT, backbone=",".join(options.backbones),
                                  data_source=options.data)
    # The oracle's address (or the name) is how workers find this run; the
    # time (set again on every resume) tells a chief's run from one an
    # earlier, killed chief left RUNNING.
    tags.update({TAG_SEARCH_NAME: name, TAG_OPENED: f"{time.time():.3f}"})
    if options.role == "chief":
        tags.update({TAG_ORACLE: oracle, TAG_CHIEF_HOST: socket.gethostname()})
    with tracking.tracked_run(options.experiment, run_name=f"search-{name}",
                              tracking_uri=uri, run_id=runs.parent_run_id, tags=tags) as parent:
        import mlflow

        runs.set_parent(parent.info.run_id)
        # Children left RUNNING by a killed earlier attempt: KILLED now; a trial
        # that is run again reopens its own run.
        runs.close_stale()
        search = tuner()
        tracking.log_config({"search": _loggable(options), "classes": class_names})
        mlflow.log_dict(search.oracle.get_space().get_config(), "search_space.json")
        done = len(runs.leaderboard())
        progress(f"Search '{name}': {options.tuner}, up to "
                 f"{options.max_trials if options.tuner != 'hyperband' else 'hyperband'} "
                 f"trials, {done} already done; parent run {parent.info.run_id}.")

        # 4. The search (the chief only serves the oracle until the workers are done).
        try:
            search.search(train, validation_data=val, verbose=options.verbose)
        except WorkersGoneError:
            # The trials of dead workers are not RUNNING any more; a restarted
            # worker reopens its trial's run. Raised inside the run: it ends FAILED.
            runs.close_stale()
            raise
        except RuntimeError as exc:
            if not str(exc).startswith(_TOO_MANY_FAILURES):
                raise
            progress(f"The search stopped after {options.max_consecutive_failed_trials} "
                     "failed trials in a row (--max-failures).")

        # 5. What the search found.
        runs.close_stale()
        runs.backfill_hyperparameters(search.hp_names())
        mlflow.log_dict(search.oracle.get_space().get_config(), "search_space.json")
        rows = runs.log_leaderboard(search.objective.direction)
        result = SearchResult(parent.info.run_id, uri, rows)
        # keras-tuner pads get_best_trials with failed trials, which have no score.
        scored = [t for t in search.oracle.get_best_trials(len(search.oracle.trials))
                  if t.score is not None and str(getattr(t.status, "value", t.status))
                  == "COMPLETED"]
        if not scored:
            save_result(result, project_dir)
            # Raised inside the run: the parent ends FAILED.
            raise SearchFailedError(
                f"No trial of search '{name}' succeeded. {runs.failure_summary()}\n"
                f"Parent run {parent.info.run_id} (store {uri}); each failed trial's run "
                "holds its traceback.txt.")
        best = scored[0]
        result.best_hyperparameters = dict(best.hyperparameters.values)
        result.best_score = best.score
        mlflow.log_dict(result.best_hyperparameters, "best_hyperparameters.json")
        existing = mlflow.get_run(parent.info.run_id).data.params
        mlflow.log_params({f"best.{k}": v for k, v in result.best_hyperparameters.items()
                           if f"best.{k}" not in existing})
        mlflow.log_metric("best_score", float(best.score))
        if options.retrain:
            from zoo.classification.search.retrain import best_config, retrain_and_log

            config, trial = best_config(search, hypermodel)
            progress(f"Retraining the best configuration ({config.backbone}, "
                     f"{'train + validation' if options.retrain_on_all else 'train'})...")
            result.final = retrain_and_log(config, trial, train, val, test, class_names,
                                           retrain_on_all=options.retrain_on_all,
                                           register=options.register, feature_cache=cache)
    save_result(result, project_dir)
    return result


def _tracking_uri(options: SearchOptions) -> str:
    from zoo.tracking import resolve_tracking_uri
    from zoo.tracking.store import sqlite_path

    uri = resolve_tracking_uri(options.tracking_uri)
    if options.role != "single" and (sqlite_path(uri) or "://" not in uri):
        # SQLite takes one writer at a time; several processes writing to it
        # at once fail with "database is locked". A tracking server serialises them.
        raise TuningError(
            f"A distributed search logs to an MLflow tracking server (http://...), not to "
            f"{uri}. Start one with `mlflow server --backend-store-uri {uri}` or use "
            f"`zoo tune --launch-workers N`, which does.")
    return uri


def _loggable(options: SearchOptions) -> dict:
    values = dataclasses.asdict(options)
    values["space"] = {k: list(v) if isinstance(v, tuple) else v
                       for k, v in options.space.items()}
    for transient in ("role", "worker_id", "verbose"):
        values.pop(transient, None)
    return values

"""A run's end-of-run files, kept for later when the tracking server is away.

The steps that log files at the end of a run (plots, reports, the MLflow
model, the run's description) log to the active MLflow run. BestEffort runs
them; when the tracking server cannot be reached, it runs them again
against a stand-in: a run in a SQLite store in a local folder
(`unsent-files-RUN/` beside the spool). What they logged there, files and
tags, is queued in the run's MetricSpool after its metrics, and reaches the
real run when the server is back (the spool's sender, `zoo tracking flush
FILE`, or `--resume`). The folder is removed once everything was sent.

The MLflow model goes to the run's artifacts under its name (`model/`), so
`mlflow.keras.load_model("runs:/RUN/model")` loads it; it is not a separate
MLflow "logged model" and is not registered (register it from the UI or
with `mlflow.register_model("runs:/RUN/model", NAME)`).
"""

from __future__ import annotations

import contextlib
import warnings
from pathlib import Path

STAND_IN_EXPERIMENT = "stand-in"
# Tags MLflow sets on every new run; they describe the stand-in, not the run.
_OWN_TAGS = ("mlflow.user", "mlflow.runName", "mlflow.parentRunId")


class BestEffort:
    """Tracking calls at the end of a run that give way when the server is gone.

        steps = BestEffort(spool)
        steps("learning curves", log_learning_curves, result)
        steps("model", log_keras_model, model, example)
        if steps.queued: print("Waiting in the spool:", ", ".join(steps.queued))
        if steps.skipped: print("Not logged:", ", ".join(steps.skipped))

    The first call that finds the server unreachable is reported once. With
    a `spool`, that call and the ones after it are run against a local
    stand-in run instead (`stand_in_run`): their files and tags wait in
    the spool, are sent with its metrics, and the call returns None. Without
    one, they are skipped at once rather than each waiting for its own
    timeout. Other errors are raised as usual.

    Args:
        spool: the run's zoo.tracking.spool.MetricSpool, where the files wait while
            the server is away; None skips them instead.
    """

    def __init__(self, spool=None):
        self.spool = spool
        self.queued: list[str] = []
        self.skipped: list[str] = []
        self.error: Exception | None = None

    def __call__(self, what: str, call, *args, keep: bool = True, **kwargs):
        """Run `call(*args, **kwargs)`, described as `what` in the end message.

        keep=False: a step whose result cannot wait (e.g. registering a model
        version) is skipped, not queued, once the server is found away.
        """
        from zoo.tracking.runs import is_unreachable

        if self.error is None:
            try:
                return call(*args, **kwargs)
            except Exception as exc:
                if not is_unreachable(exc):
                    raise
                self.error = exc
                first_line = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]
                rest = ("wait on disk to be sent later" if self.spool is not None
                        else "are not logged to it")
                warnings.warn(f"The tracking server cannot be reached ({first_line}); the rest "
                              f"of the run's files {rest}.", stacklevel=2)
        if self.spool is None or not keep:
            self.skipped.append(what)
            return None
        with stand_in_run(self.spool):
            call(*args, **kwargs)
        self.queued.append(what)
        return None


def files_folder(spool_path) -> Path:
    """Where the stand-in of the spool at `spool_path` keeps its store and files."""
    path = Path(spool_path)
    return path.with_name(path.name.replace("unsent-metrics-", "unsent-files-").replace(
        ".jsonl", ""))


@contextlib.contextmanager
def stand_in_run(spool):
    """Run the block with a local stand-in as MLflow's active run; then queue what it logged.

        with stand_in_run(spool):
            log_learning_curves(result)       # logs into the stand-in's folder

    Args:
        spool: the real run's MetricSpool: its files and tags wait there.
    """
    import mlflow

    folder = files_folder(spool.path)
    folder.mkdir(parents=True, exist_ok=True)
    store = f"sqlite:///{folder.resolve() / 'stand-in.db'}"
    client = mlflow.MlflowClient(store)
    experiment = client.get_experiment_by_name(STAND_IN_EXPERIMENT)
    experiment_id = experiment.experiment_id if experiment else client.create_experiment(
        STAND_IN_EXPERIMENT, artifact_location=(folder.resolve() / "artifacts").as_uri())
    previous_uri = mlflow.get_tracking_uri()
    mlflow.set_tracking_uri(store)
    try:
        # nested: the real run stays on MLflow's stack of active runs, for its end.
        with mlflow.start_run(experiment_id=experiment_id, nested=True) as run:
            yield run
    finally:
        mlflow.set_tracking_uri(previous_uri)
    _queue(spool, client, run.info.run_id, experiment_id)


def _queue(spool, client, stand_in_id: str, experiment_id: str) -> None:
    from mlflow.utils.file_utils import local_file_uri_to_path

    stand_in = client.get_run(stand_in_id)
    files = Path(local_file_uri_to_path(stand_in.info.artifact_uri))
    if files.is_dir() and any(files.iterdir()):
        spool.log_artifact(files)
    for model in client.search_logged_models(
            experiment_ids=[experiment_id], filter_string=f"source_run_id = '{stand_in_id}'"):
        spool.log_artifact(Path(local_file_uri_to_path(model.artifact_location)), model.name)
    for key, value in stand_in.data.tags.items():
        if key not in _OWN_TAGS and not key.startswith("mlflow.source."):
            spool.set_tag(key, value)


def model_lines(steps: BestEffort, info, run_id: str) -> tuple[str, list[str]]:
    """Where the run's MLflow model is: its URI (the run's `model/` when its
    files wait in the spool) and the description's line about it."""
    model_uri = info.model_uri if info is not None else f"runs:/{run_id}/model"
    if info is not None:
        return model_uri, [f"MLflow model: `{model_uri}`"]
    if "MLflow model" in steps.queued:
        return model_uri, [f"MLflow model: `{model_uri}` (sent after the run)"]
    return model_uri, []


def register_logged_model(steps: BestEffort, spool, info, name: str, *, metric: str,
                          chance_level: float | None) -> list[str]:
    """`--register NAME`: a new version of NAME aliased `candidate`, promoted
    to `champion` when its run's `metric` beats the champion's and
    `chance_level`. The registry compares the run's metric, so it must have
    reached the server; otherwise the step is skipped (and named at the end).

    Returns:
        The description's line about the version, if one was registered.
    """
    from zoo.tracking.registry import promote_if_better, register_candidate

    if not (info is not None and spool.drain()):
        steps.skipped.append(f"registration as {name}")
        return []
    version = steps("registered version", register_candidate, info.model_uri, name, keep=False)
    if version is None:
        return []
    promoted = steps("champion alias", promote_if_better, name, version, metric=metric,
                     chance_level=chance_level, keep=False)
    print(f"Registered {name} v{version} as 'candidate'"
          f"{' and promoted it to champion' if promoted else ''}.")
    return [f"Registered: `models:/{name}/{version}` ({'champion' if promoted else 'candidate'})"]


def print_unsent(steps: BestEffort, spool, unsent: int, saved: Path, model_uri: str | None = None,
                 register: str | None = None) -> None:
    """The end-of-run lines about what the tracking server has not received.

    Args:
        steps: the run's BestEffort.
        spool: its MetricSpool, closed; `unsent` is what `close()` returned.
        saved: the model file written before anything was sent.
        model_uri: the model's MLflow URI, for the registration command.
        register: the registered name asked for, if any.
    """
    waiting = unsent or spool.path.exists()
    if waiting or steps.skipped:
        print(f"\n[tracking] The tracking server could not be reached at the end of the run. "
              f"The model is saved: {Path(saved).resolve()}")
        if steps.queued and waiting:
            print(f"[tracking] Not sent yet (kept on disk): {', '.join(steps.queued)}.")
        if steps.skipped:
            print(f"[tracking] Not logged to the run: {', '.join(steps.skipped)}.")
        if register and any(step.startswith("registration") for step in steps.skipped):
            print(f"[tracking] Once the files are sent, register the model with: "
                  f"python -c \"import mlflow; mlflow.register_model('{model_uri}', "
                  f"'{register}')\"")
        if waiting:
            print(f"[tracking] {unsent} records (metrics, files, tags) and the run's status "
                  f"wait in {spool.path.resolve()}; send them with: zoo tracking flush "
                  f"{spool.path.resolve()}   (a later --resume of this run sends them too)")
    elif steps.queued:
        print(f"\n[tracking] The tracking server was away at the end of the run and came back; "
              f"these reached the run late: {', '.join(steps.queued)}.")

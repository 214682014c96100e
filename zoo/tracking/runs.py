"""One MLflow run per recipe invocation, and how it ends.

    with tracked_run("classify", tracking_uri=args.tracking_uri, run_id=resumed_id,
                     tags=standard_tags("classify", backbone="resnet50")) as run:
        checkpoint_meta["mlflow_run_id"] = run.info.run_id   # known from the start
        ...

The run ends FINISHED when the block completes, FAILED when it raises, and
KILLED on Ctrl-C or SIGTERM; the last two also store the traceback as
`traceback.txt`. SIGTERM (what `kill`, systemd, Docker and job schedulers send)
would otherwise end Python without unwinding, leaving the run RUNNING forever.

A `kill -9` or a power cut cannot be caught: the run stays RUNNING. Resuming
it (`--resume`, i.e. `tracked_run(..., run_id=ID)`) reopens it and it ends
normally; to give up on it instead, `close_stale_run(ID)` marks it KILLED.

A resume that fails before its work starts (its checkpoint cannot be
restored, say) changed nothing in the run, so the run gets back the status
and end time it had: a FINISHED run stays FINISHED. The work starts with
the first metric logged after reopening (`mark_run_started`).

When the tracking server cannot be reached as the run ends, the run cannot
be given its status there; the block's outcome stands, a warning says so,
and a zoo.tracking.spool.MetricSpool of the run keeps the status for
`zoo tracking flush`.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import threading
import traceback
from collections.abc import Iterator, Mapping

from zoo.errors import TrackingError
from zoo.tracking.store import default_artifact_location, resolve_tracking_uri

_log = logging.getLogger(__name__)

TRACEBACK_ARTIFACT = "traceback.txt"
_ENDED = ("KILLED", "FAILED", "FINISHED")
# Runs reopened by tracked_run whose new work has started (a metric was logged).
_STARTED: set[str] = set()
# run id -> what keeps the run's final status when the server cannot take it.
_STATUS_KEEPERS: dict = {}


def mark_run_started(run_id: str) -> None:
    """Say that a reopened run's new work has started: a failure now is the run's own."""
    _STARTED.add(run_id)


def on_unreachable_end(run_id: str, keep_status) -> None:
    """Call `keep_status(status)` if run `run_id` ends while the server is unreachable."""
    _STATUS_KEEPERS[run_id] = keep_status


class RunTerminated(KeyboardInterrupt):
    """Raised in the main thread when SIGTERM arrives during a tracked run.

    A KeyboardInterrupt, so that it stops training the way Ctrl-C does and
    passes through code that catches Exception.
    """

    def __init__(self, signum: int):
        super().__init__(f"terminated by signal {signal.Signals(signum).name}")
        self.signum = signum


@contextlib.contextmanager
def tracked_run(experiment: str, run_name: str | None = None, tracking_uri: str | None = None,
                run_id: str | None = None, tags: Mapping[str, str] | None = None,
                artifact_location: str | None = None) -> Iterator:
    """Start (or resume) an MLflow run for the duration of a `with` block.

    Sets the process's tracking URI (mlflow.set_tracking_uri, which also sets
    MLFLOW_TRACKING_URI for subprocesses), so that mlflow.log_* calls and
    zoo's helpers inside the block write to this run. It stays set afterwards,
    for registry calls after the block.

    Args:
        experiment: experiment name; created when missing. Ignored when
            resuming, since the run already belongs to an experiment.
        run_name: shown in the UI; MLflow makes one up when None.
        tracking_uri: explicit store URI (`--tracking-uri`); see
            zoo.tracking.resolve_tracking_uri for the fallbacks.
        run_id: resume this run instead of starting one (`--resume`): it
            becomes RUNNING again, whether it ended FAILED or KILLED or was
            left RUNNING by a `kill -9`, and keeps its params and metrics;
            new metrics go at later steps.
        tags: tags to set on the run (e.g. zoo.tracking.standard_tags(...)).
        artifact_location: where a newly created experiment keeps artifacts;
            default: `mlartifacts` beside a SQLite store's file.

    Yields:
        mlflow.ActiveRun; `run.info.run_id` is valid at once.

    Raises:
        TrackingError: run_id is not in this store, or was deleted; an http(s)
            tracking server does not answer (see `require_reachable`).
    """
    import mlflow

    uri = resolve_tracking_uri(tracking_uri)
    require_reachable(uri)
    mlflow.set_tracking_uri(uri)
    limit_http_retries(uri)
    with _SigtermRaises() as sigterm:
        before = None
        if run_id:
            run, before = _resume(mlflow, run_id, uri, run_name, tags)
            _STARTED.discard(run_id)
        else:
            experiment_id = _experiment_id(mlflow, experiment,
                                           artifact_location or default_artifact_location(uri))
            run = mlflow.start_run(experiment_id=experiment_id, run_name=run_name,
                                   tags=dict(tags or {}))
        try:
            yield run
        except BaseException as exc:
            sigterm.ending()
            if before is not None and run_id not in _STARTED and before.status in _ENDED:
                _reopen_undone(run_id, before, exc)
            else:
                _end(run.info.run_id, _status_for(exc), exc)
            raise
        else:
            sigterm.ending()
            _end(run.info.run_id, "FINISHED", None)
        finally:
            _STARTED.discard(run.info.run_id)
            _STATUS_KEEPERS.pop(run.info.run_id, None)


# When the tracking server is remote (http), a request that cannot get
# through should fail within seconds (3 retries, waits of about 1, 2, 4 s),
# not after MLflow's default 7 retries with doubling waits (minutes): zoo
# keeps the metrics on disk and tries again itself (zoo.tracking.spool).
# A brief hiccup is still ridden out. Values set in the environment win.
HTTP_LIMITS = {"MLFLOW_HTTP_REQUEST_TIMEOUT": "20", "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "3",
               "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1"}


def limit_http_retries(uri: str) -> None:
    """Make requests to an http(s) tracking server give up within seconds (see HTTP_LIMITS)."""
    import os

    if uri.startswith(("http://", "https://")):
        for name, value in HTTP_LIMITS.items():
            os.environ.setdefault(name, value)


# The check before a run starts asks once, briefly: a server that does not
# answer within seconds is reported at once instead of after retries.
PROBE_LIMITS = {"MLFLOW_HTTP_REQUEST_TIMEOUT": "5", "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0"}


def require_reachable(uri: str) -> None:
    """Fail fast, before any work, when the http(s) tracking server `uri` does not answer.

    Other stores (SQLite, a folder) are not checked: opening them says what is wrong.

    Raises:
        TrackingError: one sentence naming the URI and what to do.
    """
    import os

    if not uri.startswith(("http://", "https://")):
        return
    from mlflow import MlflowClient

    saved = {name: os.environ.get(name) for name in PROBE_LIMITS}
    os.environ.update(PROBE_LIMITS)
    try:
        MlflowClient(uri).search_experiments(max_results=1)
    except Exception as exc:
        if not is_unreachable(exc):
            raise
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
        raise TrackingError(
            f"The MLflow tracking server {uri} does not answer ({reason}). Start it (e.g. "
            f"`mlflow server --host 127.0.0.1 --port PORT`), or drop --tracking-uri (and "
            f"unset MLFLOW_TRACKING_URI) to log to the local store sqlite:///mlflow.db. "
            f"The run was not started.") from None
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def is_unreachable(exc: BaseException) -> bool:
    """Whether `exc` says the tracking server (or its artifact store) cannot be reached."""
    try:
        import requests

        if isinstance(exc, requests.exceptions.RequestException):
            return True
    except ImportError:  # pragma: no cover - MLflow depends on requests
        pass
    if isinstance(exc, (ConnectionError, TimeoutError)):
        return True
    text = str(exc)
    return any(sign in text for sign in (
        "API request to", "Max retries exceeded", "Connection refused",
        "Failed to establish a new connection", "Read timed out", "Connection aborted"))


def close_stale_run(run_id: str, status: str = "KILLED", tracking_uri: str | None = None) -> bool:
    """End a run that was left RUNNING (its process got `kill -9` or lost power).

    Args:
        run_id: the run to end.
        status: KILLED, FAILED or FINISHED.
        tracking_uri: the store; see zoo.tracking.resolve_tracking_uri.

    Returns:
        True when the run was RUNNING and is now ended; False when it had
        already ended (nothing changes then).
    """
    from mlflow import MlflowClient

    if status not in _ENDED:
        raise TrackingError(f"A stale run can be closed as KILLED, FAILED or FINISHED, "
                            f"not {status!r}.")
    client = MlflowClient(resolve_tracking_uri(tracking_uri))
    run = _get_run(client, run_id, client.tracking_uri)
    if run.info.status in _ENDED:
        return False
    client.set_terminated(run_id, status)
    return True


def _experiment_id(mlflow, name: str, artifact_location: str | None) -> str:
    found = mlflow.get_experiment_by_name(name)
    if found is not None:
        return found.experiment_id
    return mlflow.create_experiment(name, artifact_location=artifact_location)


def _resume(mlflow, run_id, uri, run_name, tags):
    run = _get_run(mlflow.MlflowClient(uri), run_id, uri)
    if run.info.lifecycle_stage == "deleted":
        raise TrackingError(f"Run {run_id} was deleted; restore it in the MLflow UI "
                            "or start without resuming it.")
    # MLflow reopens an ended run as RUNNING and keeps its params and metrics.
    return mlflow.start_run(run_id=run_id, run_name=run_name, tags=dict(tags or {})), run.info


def _reopen_undone(run_id: str, before, exc: BaseException) -> None:
    """A resume failed before its work started: give the run back its status and end time."""
    import mlflow

    try:
        active = mlflow.active_run()
        if active is not None and active.info.run_id == run_id:
            mlflow.end_run(before.status)
        mlflow.MlflowClient().set_terminated(run_id, before.status, end_time=before.end_time)
    except Exception as error:  # noqa: BLE001 - the resume's own error is the one to raise
        _log.warning("Could not give run %s back its status %s: %s", run_id, before.status,
                     error)
    _log.warning("Resuming run %s failed before training started (%s); the run keeps its "
                 "status %s.", run_id, type(exc).__name__, before.status)


def _get_run(client, run_id: str, uri: str):
    from mlflow.exceptions import MlflowException

    try:
        return client.get_run(run_id)
    except MlflowException as exc:
        raise TrackingError(
            f"No run {run_id} in the tracking store {uri}. Pass the --tracking-uri the run "
            f"was logged to (or set MLFLOW_TRACKING_URI).") from exc


def _status_for(exc: BaseException) -> str:
    if isinstance(exc, KeyboardInterrupt):
        return "KILLED"
    if isinstance(exc, SystemExit) and exc.code in (None, 0):
        return "FINISHED"
    return "FAILED"


def _end(run_id: str, status: str, exc: BaseException | None) -> None:
    import mlflow

    try:
        if exc is not None and status != "FINISHED":
            text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
            mlflow.MlflowClient().log_text(run_id, text, TRACEBACK_ARTIFACT)
    except Exception as error:  # the status matters more than the traceback file
        _log.warning("Could not store the traceback of run %s: %s", run_id,
                     str(error).splitlines()[0][:300] if str(error) else repr(error))
    try:
        active = mlflow.active_run()
        if active is not None and active.info.run_id == run_id:
            # end_run takes the run off the active stack before it asks the
            # server, so a failure below still leaves no active run behind.
            mlflow.end_run(status)
        else:  # the block ended the run itself, or started another one
            mlflow.MlflowClient().set_terminated(run_id, status)
    except Exception as error:
        if not is_unreachable(error):
            raise
        keeper = _STATUS_KEEPERS.get(run_id)
        if keeper is not None:
            keeper(status)
        _log.warning("Run %s could not be marked %s: the tracking server cannot be reached "
                     "(%s).%s", run_id, status, str(error).splitlines()[0][:200],
                     " The status waits with the unsent metrics." if keeper else "")


class _SigtermRaises:
    """Turn the first SIGTERM into RunTerminated while a run is active.

    Only the main thread may install signal handlers, so elsewhere this does
    nothing. Once the run is being ended (`ending()`), SIGTERM is ignored, so
    that a second `kill` cannot interrupt the cleanup and leave the run
    RUNNING. The previous handler comes back on exit.
    """

    def __init__(self):
        self._ending = False
        self._installed = False
        self._previous = None

    def ending(self) -> None:
        self._ending = True

    def _handle(self, signum, frame):
        if not self._ending:
            self._ending = True
            raise RunTerminated(signum)

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGTERM, self._handle)
            self._installed = True
        return self

    def __exit__(self, *exc_info):
        if self._installed:
            # None: the previous handler was not set from Python; the default is the best guess.
            signal.signal(signal.SIGTERM,
                          signal.SIG_DFL if self._previous is None else self._previous)

"""The MLflow run tree of a search: one parent run, one child run per trial.

    parent  "search-<project>"       search_space.json, leaderboard.json/.csv,
                                     best_hyperparameters.json, best.* params,
                                     the retrained best model
      child "trial-0000"             per-epoch metrics, hp.* params, score,
      child "trial-0001"             status, traceback.txt when it failed
      ...

Child runs are written with an MlflowClient and explicit run ids, never
through MLflow's "active run", so trials of several worker processes (and a
parent held open by the chief) do not step on each other.

The parent is tagged with the oracle's address (`zoo.search.oracle`), the
chief's host name and the search's name (`zoo.search.name`). A worker, which
may run on another machine with a project directory of its own, finds the
search's parent run through the tracking server by the oracle's address it
was given (or by `--search-name`), never through a shared file or a folder
name. The median rule's history is read there too: the finished siblings'
metrics.

Resume never duplicates a run: `mlflow_runs.json` in each process's project
directory maps the parent and every trial id it ran to its run id (written
atomically, under a lock), and a trial missing there is still found among
the parent's children by its `zoo.trial_id` tag.
"""

from __future__ import annotations

import logging
import math
import time
from pathlib import Path

from zoo.files import read_json, update_json
from zoo.tracking.names import epoch_metric_name
from zoo.tuning.addresses import is_loopback, same_oracle, split_oracle_address
from zoo.tuning.leaderboard import MISSING, rank_rows, write_leaderboard

_log = logging.getLogger(__name__)

RUNS_FILE = "mlflow_runs.json"
TAG_PARENT = "mlflow.parentRunId"
TAG_TRIAL_ID = "zoo.trial_id"
TAG_WORKER = "zoo.worker"
TAG_TRIAL_STATUS = "zoo.trial.status"
TAG_ATTEMPTS = "zoo.trial.attempts"  # set when an interrupted trial's run is reopened
TAG_STOPPED_EARLY = "zoo.trial.stopped_early"
TAG_SEARCH = "zoo.search"
TAG_SEARCH_NAME = "zoo.search.name"  # on the parent: workers given --search-name find it so
TAG_ORACLE = "zoo.search.oracle"  # on the parent: "host:port"; how workers find it
TAG_CHIEF_HOST = "zoo.search.chief_host"  # on the parent: the chief's machine
TAG_OPENED = "zoo.search.opened"  # on the parent: when a chief last opened it (epoch seconds)
TAG_ERROR = "zoo.trial.error"  # on a failed child: its exception, in one line
# Trials whose per-epoch objective the median rule compares against.
FINISHED_STATUSES = ("COMPLETED", "STOPPED_EARLY")
TRACEBACK_ARTIFACT = "traceback.txt"


def choose_parent(runs, *, oracle: str | None = None, name: str | None = None,
                  here: str | None = None):
    """The parent run a worker joins, among RUNNING runs; None if none fits.

    By name: the runs tagged `zoo.search.name` == name. By oracle: the runs
    whose chief's oracle is at that address (a chief listening on 0.0.0.0
    matches any address with its port; loopback addresses match each
    other). Among the chiefs of one machine the one opened last is taken:
    a port serves one oracle at a time, so older RUNNING runs were left by
    chiefs that were killed. Loopback runs of several machines (one
    tracking server, chiefs that all kept 127.0.0.1) are told apart by this
    machine's name, `here`.

    Raises:
        TuningError: several machines' searches fit; --search-name decides.
    """
    import socket

    from zoo.errors import TuningError

    top = [r for r in runs if TAG_PARENT not in r.data.tags]
    if name is not None:
        found = [r for r in top if r.data.tags.get(TAG_SEARCH_NAME) == name]
    else:
        found = [r for r in top if same_oracle(r.data.tags.get(TAG_ORACLE), oracle)]
        hosts = {r.data.tags.get(TAG_CHIEF_HOST) for r in found}
        if len(hosts) > 1:
            here = here or socket.gethostname()
            mine = [r for r in found if r.data.tags.get(TAG_CHIEF_HOST) == here]
            if not mine or not is_loopback(split_oracle_address(oracle)[0]):
                names = ", ".join(sorted(f"{r.data.tags.get(TAG_SEARCH_NAME)!r} (chief on "
                                         f"{r.data.tags.get(TAG_CHIEF_HOST)})" for r in found))
                raise TuningError(
                    f"Several running searches have their oracle on {oracle}: {names}. "
                    "Name the one to join with --search-name.")
            found = mine
    if not found:
        return None
    return max(found, key=lambda r: float(r.data.tags.get(TAG_OPENED, 0)))


def trial_run_name(trial_id) -> str:
    """The child run's name: trial-0007."""
    return f"trial-{int(trial_id):04d}"


def hp_param(value) -> str:
    """A hyperparameter value as an MLflow param: numbers stay numbers."""
    if isinstance(value, float):
        return repr(value)
    return str(value)


class SearchRuns:
    """The parent and child runs of one search, and their id mapping.

    Args:
        project_dir: the search's project directory (holds mlflow_runs.json).
        tracking_uri: the MLflow store every process of the search logs to.
        worker: this process's tuner id, tagged on the child runs it makes.
    """

    def __init__(self, project_dir, tracking_uri: str, worker: str = "tuner0"):
        from mlflow import MlflowClient

        self.path = Path(project_dir) / RUNS_FILE
        self.tracking_uri = tracking_uri
        self.client = MlflowClient(tracking_uri)
        self.worker = worker
        self._parent: str | None = None  # set_parent / find_parent; else the mapping's
        self._histories: dict[str, list] = {}  # run id -> series; ended runs do not change

    # ---------------------------------------------------------------- mapping

    def mapping(self) -> dict:
        return read_json(self.path, {"parent_run_id": None, "trials": {}})

    @property
    def parent_run_id(self) -> str | None:
        return self._parent or self.mapping().get("parent_run_id")

    def set_parent(self, run_id: str) -> None:
        """Record the parent run; a resumed search finds it here.

        A mapping that names another parent (a worker's folder used by an
        earlier search) starts over: its trial ids belong to that search.
        """
        self._parent = run_id

        def change(value):
            if value.get("parent_run_id") != run_id:
                value = {"parent_run_id": run_id, "trials": {}}
            return value
        update_json(self.path, change, default={"parent_run_id": None, "trials": {}})

    def find_parent(self, experiment: str, *, oracle: str | None = None,
                    name: str | None = None, timeout: float = 300.0) -> str:
        """The running parent run of the search a worker joins, from the tracking server.

        Found by the oracle's address ("host:port", see
        zoo.tuning.addresses.oracle_address), or by the search's name when
        `name` is given. Waits for the chief to open it; see choose_parent
        for which run is taken when several could be meant.
        """
        from zoo.errors import TuningError

        deadline = time.monotonic() + timeout
        while True:
            found = self.client.get_experiment_by_name(experiment)
            runs = [] if found is None else self.client.search_runs(
                [found.experiment_id], filter_string="attributes.status = 'RUNNING'",
                max_results=50000)
            chosen = choose_parent(runs, oracle=oracle, name=name)
            if chosen is not None:
                self.set_parent(chosen.info.run_id)
                return chosen.info.run_id
            if time.monotonic() > deadline:
                wanted = (f"named {name!r}" if name is not None
                          else f"with its oracle on {oracle}")
                given = ("the same --search-name" if name is not None
                         else "the same --oracle-host and --oracle-port")
                raise TuningError(
                    f"No running search {wanted} in experiment {experiment!r} of "
                    f"{self.tracking_uri} after {timeout:.0f} s: start the chief (zoo tune "
                    f"--chief) first, with {given}, --experiment and --tracking-uri.")
            time.sleep(1.0)

    def wait_for_parent(self, timeout: float = 300.0) -> str:
        """The parent run id in this folder's mapping, waiting for the chief to
        write it (the local launcher, which shares the chief's folder; workers
        use find_parent)."""
        from zoo.errors import TuningError

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            run_id = self.parent_run_id
            if run_id:
                return run_id
            time.sleep(0.5)
        raise TuningError(f"No parent run in {self.path} after {timeout:.0f} s: the chief "
                          "did not open the search; see its log.")

    def _remember(self, trial_id: str, run_id: str) -> None:
        def change(value):
            value.setdefault("trials", {})[str(trial_id)] = run_id
            return value
        update_json(self.path, change, default={"parent_run_id": None, "trials": {}})

    # ---------------------------------------------------------------- children

    def children(self) -> list:
        """Every child run of the parent, whatever its status."""
        parent = self.parent_run_id
        experiment_id = self.client.get_run(parent).info.experiment_id
        return self.client.search_runs(
            [experiment_id], filter_string=f"tags.`{TAG_PARENT}` = '{parent}'",
            max_results=50000)

    def _find_child(self, trial_id: str):
        known = self.mapping()["trials"].get(str(trial_id))
        if known:
            return self.client.get_run(known)
        for run in self.children():
            if run.data.tags.get(TAG_TRIAL_ID) == str(trial_id):
                return run
        return None

    def start_trial(self, trial_id: str) -> str:
        """The child run of a trial, RUNNING: a new one, or the one an earlier,
        interrupted attempt left (reopened rather than duplicated)."""
        parent = self.parent_run_id
        run = self._find_child(trial_id)
        if run is None:
            experiment_id = self.client.get_run(parent).info.experiment_id
            run = self.client.create_run(
                experiment_id, run_name=trial_run_name(trial_id),
                tags={TAG_PARENT: parent, TAG_TRIAL_ID: str(trial_id), TAG_WORKER: self.worker,
                      TAG_SEARCH: "tune", TAG_TRIAL_STATUS: "RUNNING"})
        else:
            self.client.update_run(run.info.run_id, status="RUNNING")
            self.client.set_tag(run.info.run_id, TAG_WORKER, self.worker)
            self.client.set_tag(run.info.run_id, TAG_TRIAL_STATUS, "RUNNING")
            attempts = int(run.data.tags.get(TAG_ATTEMPTS, "1")) + 1
            self.client.set_tag(run.info.run_id, TAG_ATTEMPTS, str(attempts))
        self._remember(trial_id, run.info.run_id)
        return run.info.run_id

    def last_logged_step(self, run_id: str) -> int | None:
        """The last epoch an earlier, interrupted attempt logged to a trial's
        run (None for a new run). keras-tuner runs such a trial again from
        its start; MLflow cannot delete metric points, so the new attempt
        logs only the epochs after this one, and each curve keeps one point
        per epoch. Trials are seeded, so the epochs repeated give the same
        values."""
        keys = self.client.get_run(run_id).data.metrics
        steps = [m.step for key in keys for m in self.client.get_metric_history(run_id, key)]
        return max(steps) if steps else None

    def end_trial(self, run_id: str, status: str, hp_values: dict, score=None,
                  best_step=None, stopped_early: bool = False) -> None:
        """Log what a trial came to and end its run.

        Args:
            run_id: the child run.
            status: keras-tuner's trial status (COMPLETED, FAILED, INVALID...).
            hp_values: {name: value}, every hp name of the search (missing
                ones already filled with MISSING).
            score: the trial's objective, None when it has none.
            best_step: the epoch of that score.
            stopped_early: the median rule stopped it.
        """
        self.log_hyperparameters(run_id, hp_values)
        if score is not None and not (isinstance(score, float) and math.isnan(score)):
            self.client.log_metric(run_id, "score", float(score))
        if best_step is not None:
            self.client.log_metric(run_id, "best_step", int(best_step))
        shown = "STOPPED_EARLY" if stopped_early and status == "COMPLETED" else status
        self.client.set_tag(run_id, TAG_TRIAL_STATUS, shown)
        self.client.set_tag(run_id, TAG_STOPPED_EARLY, str(bool(stopped_early)).lower())
        # A trial the median rule stopped did finish: it ran as the rule asked
        # and has a score. KILLED stays for real interruptions (kill_trial).
        mlflow_status = {"COMPLETED": "FINISHED", "FAILED": "FAILED",
                         "INVALID": "FAILED"}.get(status, "KILLED")
        self.client.set_terminated(run_id, mlflow_status)

    def fail_trial(self, run_id: str, traceback_text: str, error: str | None = None) -> None:
        """Attach a failed trial's traceback, and its error in one line as the
        tag zoo.trial.error (its run ends in end_trial)."""
        if error:
            self.client.set_tag(run_id, TAG_ERROR, error[:1000])
        try:
            self.client.log_text(run_id, traceback_text, TRACEBACK_ARTIFACT)
        except Exception:  # the FAILED status matters more than the file
            _log.warning("Could not store the traceback of run %s", run_id, exc_info=True)

    def kill_trial(self, run_id: str, traceback_text: str | None = None) -> None:
        """End a trial's run KILLED (Ctrl-C, SIGTERM); a resume reopens it."""
        if traceback_text:
            self.fail_trial(run_id, traceback_text)
        self.client.set_tag(run_id, TAG_TRIAL_STATUS, "KILLED")
        self.client.set_terminated(run_id, "KILLED")

    def log_hyperparameters(self, run_id: str, hp_values: dict) -> None:
        """hp.* params; ones the run already has (a resumed trial) are left alone,
        since MLflow refuses to change a param."""
        from mlflow.entities import Param

        existing = self.client.get_run(run_id).data.params
        params = [Param(f"hp.{name}", hp_param(value)) for name, value in hp_values.items()
                  if f"hp.{name}" not in existing]
        for start in range(0, len(params), 100):  # MLflow's log_batch limit
            self.client.log_batch(run_id, params=params[start:start + 100])

    def backfill_hyperparameters(self, names) -> None:
        """Give every ended child every hp.* name (MISSING where it had none), so
        that MLflow's parallel-coordinates view can compare all of them."""
        for run in self.children():
            if run.info.status == "RUNNING":
                continue
            missing = {name: MISSING for name in names
                       if f"hp.{name}" not in run.data.params}
            if missing:
                self.log_hyperparameters(run.info.run_id, missing)

    def close_stale(self, keep=()) -> list[str]:
        """End children left RUNNING by a killed process, as KILLED.

        Args:
            keep: run ids to leave alone (trials running now).

        Returns:
            The run ids that were closed.
        """
        from zoo.tracking import close_stale_run

        closed = []
        for run in self.children():
            if run.info.status == "RUNNING" and run.info.run_id not in keep:
                if close_stale_run(run.info.run_id, "KILLED", tracking_uri=self.tracking_uri):
                    self.client.set_tag(run.info.run_id, TAG_TRIAL_STATUS, "KILLED")
                    closed.append(run.info.run_id)
        return closed

    def finished_histories(self, metric: str) -> dict[str, list]:
        """{trial_id: [metric at epoch 0, 1, ...]} of the search's finished trials
        (`metric` as Keras names it, e.g. "val_accuracy"),
        whichever process ran them: what the median stopping rule compares with."""
        histories = {}
        for run in self.children():
            if (run.info.status == "RUNNING"
                    or run.data.tags.get(TAG_TRIAL_STATUS) not in FINISHED_STATUSES):
                continue
            run_id = run.info.run_id
            if run_id not in self._histories:
                points = self.client.get_metric_history(run_id, epoch_metric_name(metric))
                self._histories[run_id] = series_by_epoch({m.step: m.value for m in points})
            if self._histories[run_id]:
                histories[run.data.tags.get(TAG_TRIAL_ID, run_id)] = self._histories[run_id]
        return histories

    def failure_summary(self) -> str:
        """How many trials failed, and the first one's error and run id."""
        failed = sorted((run for run in self.children()
                         if run.data.tags.get(TAG_TRIAL_STATUS) in ("FAILED", "INVALID")),
                        key=lambda run: run.info.run_name or "")
        ended = [run for run in self.children() if run.info.status != "RUNNING"]
        if not failed:
            return f"No trial of {len(ended)} has a score."
        first = failed[0]
        error = first.data.tags.get(TAG_ERROR, "see its traceback.txt")
        return (f"{len(failed)} of {len(ended)} trials failed. The first error, in "
                f"{first.info.run_name} (run {first.info.run_id}): {error}")

    # ---------------------------------------------------------------- leaderboard

    def leaderboard(self, direction: str = "max") -> list[dict]:
        """One row per ended trial, best score first; unscored trials last
        (zoo.tuning.leaderboard)."""
        rows = []
        for run in self.children():
            if run.info.status == "RUNNING":
                continue
            score = run.data.metrics.get("score")
            status = run.data.tags.get(TAG_TRIAL_STATUS, run.info.status)
            row = {"trial": run.info.run_name, "status": status,
                   "score": score, "worker": run.data.tags.get(TAG_WORKER, ""),
                   "run_id": run.info.run_id}
            row.update({k: v for k, v in sorted(run.data.params.items())
                        if k.startswith("hp.")})
            rows.append(row)
        return rank_rows(rows, direction)

    def log_leaderboard(self, direction: str = "max") -> list[dict]:
        """Write the leaderboard to the parent run (JSON and CSV), replacing the last one."""
        rows = self.leaderboard(direction)
        write_leaderboard(self.client, self.parent_run_id, rows)
        return rows


def series_by_epoch(values: dict[int, float]) -> list:
    """{epoch: value} as [value at epoch 0, 1, ...], None where an epoch is missing."""
    if not values:
        return []
    series = [None] * (int(max(values)) + 1)
    for epoch, value in values.items():
        series[int(epoch)] = value
    return series

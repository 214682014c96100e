"""Metrics that reach MLflow without holding up training, and are never lost.

    spool = MetricSpool.for_run(output, run.info.run_id)
    ...                                   # each epoch:
    spool.log_metrics({"epoch/loss": 0.3}, step=epoch)    # returns at once
    ...
    unsent = spool.close()                # 0: everything reached the run

Each record is appended to a JSON-lines file first (one line, flushed and
fsynced, so a crash loses nothing written before it), then a background
thread sends the records in order with MlflowClient.log_batch. While the
tracking server cannot be reached, zoo warns once, training goes on and the
records wait in the file; they are sent, still in order, as soon as the
server answers again, so the run's metric history has no gap. A record sent
twice (a reply lost on the way) is harmless: MLflow keeps one copy of a
metric with the same key, step, timestamp and value.

When the server does not come back before the run ends, the file stays
beside the checkpoints, with the run's final status, and
`zoo tracking flush FILE` (or `--resume`) sends what it holds. When
everything was sent, the file is removed. That flush is zoo.tracking.flush
(flush_spool) and its command line zoo.tracking.cli; this module
keeps the file, its format and the sending both of them share.

Why not MLflow's own asynchronous logging (`log_metric(..., synchronous=False)`,
MLFLOW_ENABLE_ASYNC_LOGGING): it queues the values in memory, so a crash or
a kill loses what is queued, and a long outage holds it all in RAM. This
spool keeps it on disk, where a resume or `zoo tracking flush` finds it.

End-of-run files (plots, reports, the MLflow model) and tags can wait the
same way (`log_artifact`, `set_tag`; see zoo.tracking.offline, which keeps
them when the server is away at the end of a run).

File layout: line 1 is `{"run_id": ..., "tracking_uri": ...}`; each other
line is `{"step": s, "timestamp": ms, "metrics": {...}}`,
`{"artifact": local path, "artifact_path": folder or null}`,
`{"tag": key, "value": text}` or `{"status": "FINISHED", "end_time": ms}`.
A sidecar `FILE.sent` holds how many records have reached the server.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
import warnings
from pathlib import Path

from zoo.files import DiskFullError, atomic_write_text, is_disk_full
from zoo.errors import TrackingError
from zoo.tracking.runs import mark_run_started, on_unreachable_end

_log = logging.getLogger(__name__)

# How long to wait before trying an unreachable server again.
RETRY_SECONDS = 10.0
# MLflow accepts at most 1000 metrics in one log_batch call.
BATCH_LIMIT = 1000
# What close() waits for a last send, so that the end of a run is not held
# up by a server that is gone.
CLOSE_WAIT_SECONDS = 30.0


# The sender threads' names start with this (see _QuietRetries).
THREAD_PREFIX = "zoo-spool-"


class _QuietRetries(logging.Filter):
    """Drop urllib3's line for each retry of a request made by a sender thread.

    While the server is away, a sender retries every RETRY_SECONDS, and
    urllib3 would log every retry of every attempt; the spool's own warning
    says it once instead. Requests of other threads are logged as usual.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return not threading.current_thread().name.startswith(THREAD_PREFIX)


_QUIET_RETRIES = _QuietRetries()


def spool_path(folder, run_id: str) -> Path:
    """Where the records of run `run_id` wait, in a run's output `folder`."""
    return Path(folder) / f"unsent-metrics-{run_id}.jsonl"


class MetricSpool:
    """An ordered, on-disk queue of metrics for one MLflow run, sent in the background.

    Args:
        path: the JSON-lines file (created on the first record).
        run_id: the run the metrics belong to.
        tracking_uri: its store; default: the current one (mlflow.get_tracking_uri()).
        retry_seconds: how long to wait before trying an unreachable server again.
        client: an MlflowClient; default: one for `tracking_uri`.
    """

    def __init__(self, path, run_id: str, tracking_uri: str | None = None,
                 retry_seconds: float = RETRY_SECONDS, client=None):
        import mlflow

        self.path = Path(path)
        self.run_id = run_id
        self.tracking_uri = tracking_uri or mlflow.get_tracking_uri()
        self.retry_seconds = retry_seconds
        self._client = client or mlflow.MlflowClient(self.tracking_uri)
        self._records, self._sent = read_records(self.path, run_id)
        if self._records:
            self._restart_file()
        self._lock = threading.Condition()
        self._closing = False
        self._unreachable_since: float | None = None
        self.warnings = 0  # how many times the server was found unreachable
        logging.getLogger("urllib3.connectionpool").addFilter(_QUIET_RETRIES)  # once: a set
        self._thread = threading.Thread(target=self._send_loop,
                                        name=f"{THREAD_PREFIX}{run_id[:8]}", daemon=True)
        self._thread.start()
        on_unreachable_end(run_id, self.record_status)

    @classmethod
    def for_run(cls, folder, run_id: str, **kwargs) -> MetricSpool:
        """The spool of `run_id` in the output `folder` (see `spool_path`)."""
        return cls(spool_path(folder, run_id), run_id, **kwargs)

    # -- the training side -------------------------------------------------

    def log_metrics(self, metrics: dict, step: int = 0) -> None:
        """Queue `metrics` at `step`; returns once they are on disk.

        Raises:
            zoo.files.DiskFullError: the record could not be written to disk.
        """
        values = {key: _number(value) for key, value in metrics.items()}
        values = {key: value for key, value in values.items() if value is not None}
        if not values:
            return
        mark_run_started(self.run_id)
        self._append({"step": int(step), "timestamp": int(time.time() * 1000),
                      "metrics": values})

    def log_artifact(self, local_path, artifact_path: str | None = None) -> None:
        """Queue a local file or folder for the run's artifacts (under `artifact_path`).

        The file must stay where it is until it was sent.
        """
        self._append({"artifact": str(Path(local_path).resolve()),
                      "artifact_path": artifact_path})

    def set_tag(self, key: str, value: str) -> None:
        """Queue a tag for the run."""
        self._append({"tag": key, "value": str(value)})

    def record_status(self, status: str) -> None:
        """Keep the run's final status for `flush`, since the server could not take it."""
        self._append({"status": status, "end_time": int(time.time() * 1000)})

    @property
    def unsent(self) -> int:
        with self._lock:
            return len(self._records) - self._sent

    def drain(self, wait_seconds: float = CLOSE_WAIT_SECONDS) -> bool:
        """Wait until every record so far reached the run (True), or `wait_seconds` passed.

        For what reads the run's metrics back, e.g. the registry comparing
        `val/accuracy` with the champion's.
        """
        deadline = time.monotonic() + wait_seconds
        with self._lock:
            while self._sent < len(self._records):
                left = deadline - time.monotonic()
                if left <= 0 or not self._thread.is_alive():
                    return False
                self._lock.wait(min(left, 0.5))
            return True

    def close(self, wait_seconds: float = CLOSE_WAIT_SECONDS) -> int:
        """Send what can be sent within `wait_seconds`, stop the sender; the number left.

        With nothing left, the file is removed; otherwise it stays for `flush`.
        """
        deadline = time.monotonic() + wait_seconds
        with self._lock:
            self._closing = True
            self._lock.notify_all()
        self._thread.join(max(0.0, deadline - time.monotonic()))
        left = self.unsent
        if left == 0 and not self._thread.is_alive():
            remove_spool(self.path)
        return left

    def _restart_file(self) -> None:
        """Keep only an earlier attempt's unsent metrics: this attempt decides the status."""
        self._records = [r for r in self._records[self._sent:] if "status" not in r]
        self._sent = 0
        lines = [json.dumps({"run_id": self.run_id, "tracking_uri": self.tracking_uri})]
        lines += [json.dumps(record) for record in self._records]
        atomic_write_text(self.path, "\n".join(lines) + "\n")
        Path(f"{self.path}.sent").unlink(missing_ok=True)

    # -- the sending side -------------------------------------------------

    def _append(self, record: dict) -> None:
        with self._lock:
            new_file = not self.path.exists()
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                with open(self.path, "a", encoding="utf-8") as handle:
                    if new_file:
                        handle.write(json.dumps({"run_id": self.run_id,
                                                 "tracking_uri": self.tracking_uri}) + "\n")
                    handle.write(json.dumps(record) + "\n")
                    handle.flush()
                    os.fsync(handle.fileno())
            except OSError as exc:
                if is_disk_full(exc):
                    raise DiskFullError(self.path, len(json.dumps(record)) + 1) from exc
                raise
            self._records.append(record)
            self._lock.notify_all()

    def _send_loop(self) -> None:
        while True:
            with self._lock:
                while self._sent == len(self._records) and not self._closing:
                    self._lock.wait()
                if self._sent == len(self._records):
                    return
                pending = self._records[self._sent:]
                closing = self._closing
            try:
                count = send_records(self._client, self.run_id, pending)
            except Exception as exc:  # noqa: BLE001 - whatever the cause, the records wait
                self._unreachable(exc)
                if closing:
                    return  # one last try was made; the rest stays on disk
                with self._lock:
                    self._lock.wait(self.retry_seconds)
                continue
            with self._lock:
                self._sent += count
                _write_sent(self.path, self._sent)
                self._lock.notify_all()
            if self._unreachable_since is not None:
                self._unreachable_since = None
                _log.warning("The tracking server %s answers again; the delayed metrics of "
                             "run %s were sent.", self.tracking_uri, self.run_id)

    def _unreachable(self, exc: Exception) -> None:
        if self._unreachable_since is not None:
            return
        self._unreachable_since = time.monotonic()
        self.warnings += 1
        first_line = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]
        warnings.warn(f"The tracking server {self.tracking_uri} cannot take run "
                      f"{self.run_id}'s metrics ({first_line}). Training goes on; the metrics "
                      f"wait in {self.path} and are sent when the server is back.",
                      stacklevel=1)


def send_records(client, run_id: str, records: list[dict]) -> int:
    """Send `records` in order; the number sent (all of them, or an exception)."""
    from mlflow.entities import Metric

    batch: list = []
    for record in records:
        if "metrics" not in record:
            if batch:
                client.log_batch(run_id, metrics=batch)
                batch = []
            _send_other(client, run_id, record)
            continue
        metrics = [Metric(key, value, record["timestamp"], record["step"])
                   for key, value in record["metrics"].items()]
        if len(batch) + len(metrics) > BATCH_LIMIT and batch:
            client.log_batch(run_id, metrics=batch)
            batch = []
        batch.extend(metrics)
    if batch:
        client.log_batch(run_id, metrics=batch)
    return len(records)


def _send_other(client, run_id: str, record: dict) -> None:
    """Send a record that is not metrics: a status, a tag, a file or a folder."""
    if "status" in record:
        client.set_terminated(run_id, record["status"], end_time=record.get("end_time"))
    elif "tag" in record:
        client.set_tag(run_id, record["tag"], record["value"])
    elif "artifact" in record:
        local = Path(record["artifact"])
        if local.is_dir():
            client.log_artifacts(run_id, str(local), record.get("artifact_path"))
        elif local.is_file():
            client.log_artifact(run_id, str(local), record.get("artifact_path"))
        else:  # moved or deleted since: nothing is left to send
            warnings.warn(f"{local} was queued for run {run_id} but is gone; skipped.",
                          stacklevel=2)


def read_header(path: Path) -> dict:
    try:
        with open(path, encoding="utf-8") as handle:
            header = json.loads(handle.readline())
    except FileNotFoundError:
        raise TrackingError(f"No spool file {path}: nothing to send.") from None
    except (OSError, ValueError) as exc:
        raise TrackingError(f"{path} is not a zoo metrics spool ({exc}).") from None
    if not isinstance(header, dict) or "run_id" not in header:
        raise TrackingError(f"{path} is not a zoo metrics spool (no run id on its first line).")
    return header


def read_records(path: Path, run_id: str) -> tuple[list[dict], int]:
    """The records of an existing spool file and how many were sent; ([], 0) without one."""
    if not path.exists():
        return [], 0
    if read_header(path)["run_id"] != run_id:
        raise TrackingError(f"{path} holds metrics of another run; move it away or send it "
                            f"with `zoo tracking flush {path}`.")
    records = []
    with open(path, encoding="utf-8") as handle:
        lines = handle.read().split("\n")[1:]
    for number, line in enumerate(lines, start=2):
        if not line.strip():
            continue
        try:
            records.append(json.loads(line))
        except ValueError:
            # Only the last line can be cut short (a crash while appending).
            warnings.warn(f"{path}, line {number}, was cut short and is ignored.", stacklevel=2)
    try:
        sent = int(Path(f"{path}.sent").read_text().strip())
    except (OSError, ValueError):
        sent = 0
    return records, min(sent, len(records))


def _write_sent(path: Path, count: int) -> None:
    try:
        atomic_write_text(f"{path}.sent", str(count))
    except OSError:  # the count only saves resending; records are sent twice harmlessly
        _log.warning("Could not record progress in %s.sent", path, exc_info=True)


def remove_spool(path: Path) -> None:
    """Remove a spool that was sent in full, with its count and its end-of-run files."""
    import shutil

    from zoo.tracking.offline import files_folder

    for name in (path, Path(f"{path}.sent")):
        try:
            os.unlink(name)
        except FileNotFoundError:
            pass
    shutil.rmtree(files_folder(path), ignore_errors=True)


def _number(value) -> float | None:
    """A float for MLflow, or None for what is not one number."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        try:
            import numpy as np

            number = float(np.asarray(value))
        except (TypeError, ValueError):
            return None
    return number  # NaN included: it shows where training diverged

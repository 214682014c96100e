"""Send a spool file that a run left behind to its MLflow run.

    count = flush_spool("out/unsent-metrics-RUN.jsonl")   # 0 or more records sent

What `zoo tracking flush FILE` (zoo.tracking.cli) and a resumed run
do with the metrics, files, tags and final status an earlier attempt kept
on disk while its tracking server could not be reached. The file and its
format are zoo.tracking.spool's; this module only sends one in full, or
keeps it and says why.
"""

from __future__ import annotations

from pathlib import Path

from zoo.errors import TrackingError
from zoo.tracking.spool import read_header, read_records, remove_spool, send_records


def flush_spool(path, tracking_uri: str | None = None) -> int:
    """Send the records a spool file holds to its run, in order; the number sent.

    What `zoo tracking flush FILE` does. The file is removed once everything
    reached the run; the run gets the final status the file recorded.

    Args:
        path: a spool file (`unsent-metrics-RUN.jsonl` beside the checkpoints).
        tracking_uri: the store, when it moved; default: the one the file names.

    Raises:
        TrackingError: the file is not a spool, or the server cannot be reached.
    """
    import mlflow

    path = Path(path)
    header = read_header(path)
    run_id = header["run_id"]
    uri = tracking_uri or header["tracking_uri"]
    records, sent = read_records(path, run_id)
    client = mlflow.MlflowClient(uri)
    try:
        count = send_records(client, run_id, records[sent:])
    except Exception as exc:  # noqa: BLE001 - reported with the file, which is kept
        raise TrackingError(
            f"Could not send the records in {path} to run {run_id} at {uri} "
            f"({str(exc).strip().splitlines()[0][:300] if str(exc).strip() else exc!r}). "
            f"The file is kept; try again when the server answers.") from exc
    remove_spool(path)
    return count

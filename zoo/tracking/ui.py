"""`zoo ui`: the MLflow UI on the store the recipes write to.

It runs `python -m mlflow ui` with the URI that recipes resolve (same
--tracking-uri / MLFLOW_TRACKING_URI / ./mlflow.db order, made absolute), so
the UI shows their runs whichever directory it is started from.

`mlflow ui` starts a web server with worker processes of its own, which
outlive it when only it is stopped and keep serving the port. So the UI runs
in a session (process group) of its own, and on SIGINT (Ctrl-C) or SIGTERM
zoo stops the whole group and waits for it.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from contextlib import contextmanager

from zoo.tracking.store import default_artifact_location, resolve_tracking_uri

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 5000
_LOOPBACK = {"127.0.0.1", "localhost", "::1"}
# After SIGTERM, the server and its workers get this long to stop cleanly
# before they are killed.
_STOP_GRACE_S = 10
_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def open_ui_command(tracking_uri: str | None = None) -> str:
    """How to open the MLflow UI on a store, as one would type it here: a
    SQLite store under the current folder is given by its relative path
    (`zoo ui --tracking-uri sqlite:///mlflow.db`), so the line reads the same
    on every machine.

    Args:
        tracking_uri: the store; None for the default (resolve_tracking_uri).
    """
    uri = resolve_tracking_uri(tracking_uri)
    here = f"sqlite:///{os.getcwd()}{os.sep}"
    if uri.startswith(here):
        uri = "sqlite:///" + uri[len(here):]
    return f"zoo ui --tracking-uri {uri}"


def ui_command(tracking_uri: str, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT) -> list[str]:
    """The command line that starts the MLflow UI on a store.

    Args:
        tracking_uri: the store, absolute (as resolve_tracking_uri returns it).
        host: address to listen on.
        port: port to listen on.
    """
    command = [sys.executable, "-m", "mlflow", "ui", "--backend-store-uri", tracking_uri,
               "--host", host, "--port", str(port)]
    artifacts = default_artifact_location(tracking_uri)
    if artifacts is not None:
        # Experiments created from the UI then keep their files beside the database too.
        command += ["--artifacts-destination", artifacts]
    return command


def run_ui(args: argparse.Namespace) -> int:
    """Handler of `zoo ui`: print the URL, run the UI until it stops.

    Args:
        args: parsed arguments with tracking_uri, host and port.

    Returns:
        The UI's exit status; 0 when stopped with Ctrl-C or SIGTERM.
    """
    uri = resolve_tracking_uri(args.tracking_uri)
    url_host = f"[{args.host}]" if ":" in args.host else args.host
    print(f"MLflow UI: http://{url_host}:{args.port}  (store: {uri})", flush=True)
    if args.host not in _LOOPBACK:
        print(f"zoo: warning: listening on {args.host} makes the UI reachable from the "
              "network, without authentication.", file=sys.stderr)
    process = None
    with _stop_requests_raise():
        try:
            # A session of its own: the server and the workers it starts form
            # one process group, which stop_process_group ends as a whole.
            process = subprocess.Popen(ui_command(uri, args.host, args.port),
                                       start_new_session=True)
            return process.wait()
        except _StopRequested:
            if process is not None:
                stop_process_group(process)
            return 0


class _StopRequested(Exception):
    """SIGINT or SIGTERM arrived while the UI was running."""


@contextmanager
def _stop_requests_raise():
    """Within the block, SIGINT and SIGTERM raise _StopRequested (once)."""

    def request_stop(signum, frame):
        # Later signals wait for the stop under way rather than cut it short.
        for number in _STOP_SIGNALS:
            signal.signal(number, signal.SIG_IGN)
        raise _StopRequested(signal.Signals(signum).name)

    previous = {number: signal.signal(number, request_stop) for number in _STOP_SIGNALS}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def stop_process_group(process: subprocess.Popen, grace_s: float = _STOP_GRACE_S) -> None:
    """Stop a process started with start_new_session=True, and everything in its group.

    SIGTERM to the group, up to grace_s for every member to exit, then SIGKILL
    to what is left.

    Args:
        process: the group's leader.
        grace_s: seconds the group gets to stop cleanly.
    """
    if not hasattr(os, "killpg"):  # Windows: no process groups to signal
        process.terminate()
        process.wait()
        return
    group = process.pid
    deadline = time.monotonic() + grace_s
    if _signal_group(group, signal.SIGTERM):
        try:
            process.wait(timeout=grace_s)
        except subprocess.TimeoutExpired:
            pass
        # Workers may still be finishing after their parent has exited.
        while _signal_group(group, 0) and time.monotonic() < deadline:
            time.sleep(0.1)
        _signal_group(group, signal.SIGKILL)
    process.wait()


def _signal_group(group: int, signum: int) -> bool:
    """Send signum to a process group; False when the group is gone."""
    try:
        os.killpg(group, signum)
    except ProcessLookupError:
        return False
    return True

"""`zoo ui`: the MLflow UI on the store the recipes write to.

It runs `python -m mlflow ui` with the URI that recipes resolve (same
--tracking-uri / MLFLOW_TRACKING_URI / ./mlflow.db order, made absolute), so
the UI shows their runs whichever directory it is started from.
"""

from __future__ import annotations

import argparse
import subprocess
import sys

from zoo.tracking.store import default_artifact_location, resolve_tracking_uri

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 5000
_LOOPBACK = {"127.0.0.1", "localhost", "::1"}
# After Ctrl-C the server gets SIGINT too; give it this long to stop by itself.
_STOP_GRACE_S = 10


def add_ui_command(subparsers) -> None:
    """Add the `ui` command to the zoo CLI.

    Args:
        subparsers: the object returned by ArgumentParser.add_subparsers().
    """
    ui = subparsers.add_parser(
        "ui", help="browse runs and models in the MLflow UI",
        description="Start the MLflow UI on the tracking store the recipes write to and print "
                    "its URL. Stop it with Ctrl-C.")
    ui.add_argument("--tracking-uri", default=None, metavar="URI",
                    help="the store to show (default: $MLFLOW_TRACKING_URI, else "
                         "sqlite:///mlflow.db in the current directory)")
    ui.add_argument("--port", type=_port, default=DEFAULT_PORT,
                    help=f"port to listen on (default {DEFAULT_PORT})")
    ui.add_argument("--host", default=DEFAULT_HOST,
                    help=f"address to listen on (default {DEFAULT_HOST}, this machine only). "
                         "Any other address, such as 0.0.0.0, exposes the runs, models and "
                         "their files to the network, without authentication.")
    ui.set_defaults(func=run_ui)


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
        The UI's exit status; 0 when stopped with Ctrl-C.
    """
    uri = resolve_tracking_uri(args.tracking_uri)
    url_host = f"[{args.host}]" if ":" in args.host else args.host
    print(f"MLflow UI: http://{url_host}:{args.port}  (store: {uri})", flush=True)
    if args.host not in _LOOPBACK:
        print(f"zoo: warning: listening on {args.host} makes the UI reachable from the "
              "network, without authentication.", file=sys.stderr)
    process = subprocess.Popen(ui_command(uri, args.host, args.port))
    try:
        return process.wait()
    except KeyboardInterrupt:
        # The terminal sent SIGINT to the server as well; let it shut down cleanly.
        try:
            process.wait(timeout=_STOP_GRACE_S)
        except subprocess.TimeoutExpired:
            process.terminate()
            process.wait()
        return 0


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        port = -1
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number (1-65535)")
    return port

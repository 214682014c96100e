"""The tracking commands of the zoo CLI:

    zoo ui [--tracking-uri URI] [--host H] [--port P]   the MLflow UI (zoo.tracking.ui)
    zoo tracking flush FILE...                          send a spool (zoo.tracking.flush)

zoo.cli adds them with `add_commands`, as it adds every package's commands.
"""

from __future__ import annotations

import argparse

from zoo.tracking.flush import flush_spool
from zoo.tracking.ui import DEFAULT_HOST, DEFAULT_PORT, run_ui


def add_commands(subparsers) -> None:
    """Add `zoo ui` and `zoo tracking flush FILE...` to the zoo CLI.

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

    tracking = subparsers.add_parser("tracking",
                                     help="send metrics and files a run could not send")
    commands = tracking.add_subparsers(dest="tracking_command", required=True)
    flush = commands.add_parser(
        "flush", help="send a spool of unsent metrics and files to its MLflow run",
        description="Send the metrics, end-of-run files (plots, reports, the MLflow model), "
                    "tags and final status a run kept on disk while its tracking server "
                    "could not be reached, in order. The file (and its unsent-files-RUN "
                    "folder) is removed when all were sent.")
    flush.add_argument("files", nargs="+", metavar="FILE",
                       help="unsent-metrics-RUN.jsonl files (beside the run's checkpoints)")
    flush.add_argument("--tracking-uri", default=None, metavar="URI",
                       help="the store, when it moved (default: the one the file names)")
    flush.set_defaults(func=_cmd_flush)


def _cmd_flush(args) -> int:
    for name in args.files:
        count = flush_spool(name, args.tracking_uri)
        print(f"{name}: sent {count} records; file removed.")
    return 0


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        port = -1
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number (1-65535)")
    return port

"""`zoo tracking flush FILE...`: send what a run kept on disk to its MLflow run.

The command line of zoo.tracking.flush; zoo.cli adds it beside the other
command groups. `zoo ui`, the other tracking command, is zoo.tracking.ui.
"""

from __future__ import annotations

from zoo.tracking.flush import flush_spool


def add_tracking_command(subparsers) -> None:
    """Add `zoo tracking flush FILE...` to the zoo CLI (metrics, files, tags, status).

    Args:
        subparsers: the object returned by ArgumentParser.add_subparsers().
    """
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

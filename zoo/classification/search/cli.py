"""`zoo tune`: a hyperparameter search from the command line.

    zoo tune                                   # digits, random search, a few minutes
    zoo tune --tuner hyperband --backbones resnet50,vgg16 --epochs 9
    zoo tune --space head=mlp --space learning_rate=1e-4:1e-2 --max-trials 30
    zoo tune ... --project-dir runs/tune/x     # same folder again: resume
    zoo tune --launch-workers 2 ...            # chief + 2 workers + mlflow server here
    zoo tune --chief ... / zoo tune --worker 0 ...   # by hand, several machines
    KERASTUNER_TUNER_ID=tuner0 ... zoo tune ...      # the same as --worker 0

`add_commands(subparsers)` adds it to the `zoo` command; `python -m
zoo.classification.search.cli ...` runs it alone (what the launcher
starts). The recipe recipes/tune_classifier.py takes the same arguments (`add_search_arguments` in
options.py).
Heavy imports (TensorFlow, keras-tuner, MLflow) happen in the handler, after
the chief/worker environment is set.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from zoo.errors import ZooError
from zoo.errors import SearchFailedError
from zoo.classification.search.options import (
    add_search_arguments,
    check_search_arguments,
    options_from_args,
)
from zoo.classification.search.result import format_result, load_result

EXIT_USAGE = 2
EXIT_SEARCH_FAILED = 1  # the search ran, but no trial succeeded


def python_command() -> list[str]:
    """How to start `zoo tune` in a new process, without relying on the PATH."""
    return [sys.executable, "-m", "zoo.classification.search.cli"]


def run(args, out=print) -> int:
    """Run a search (or launch a distributed one) and print its leaderboard."""
    check_search_arguments(args)
    options = options_from_args(args)
    if args.launch_workers is not None:
        from zoo.classification.search.options import options_to_argv
        from zoo.classification.search.result import RESULT_FILE
        from zoo.tuning.distributed import launch_local_search

        def command(tracking_uri, oracle_port):
            return python_command() + options_to_argv(options, tracking_uri=tracking_uri,
                                                      oracle_port=oracle_port)

        status = launch_local_search(
            args.launch_workers, command, project_dir=options.project_dir,
            tracking_uri=options.tracking_uri, oracle_port=options.oracle_port,
            stale_files=[Path(options.project_dir) / RESULT_FILE])
        if status == 0:
            # The chief's own result, from the file it wrote into the project.
            result = load_result(options.project_dir)
            if result is not None:
                out(format_result(result, options.objective, options.register))
        out(f"Distributed search ended with status {status}.")
        return status
    from zoo.classification.search.search import run_search

    result = run_search(options, progress=out)
    if options.role == "worker":
        out(f"Worker {options.worker_id} done.")
        return 0
    out(format_result(result, options.objective, options.register))
    return 0


def _handle(args) -> int:
    try:
        return run(args)
    except SearchFailedError as error:
        print(f"zoo tune: the search failed: {error}", file=sys.stderr)
        return EXIT_SEARCH_FAILED
    except ZooError as error:
        print(f"zoo tune: error: {error}", file=sys.stderr)
        return EXIT_USAGE


def add_commands(subparsers) -> argparse.ArgumentParser:
    """Add `zoo tune` to the `zoo` command's subparsers."""
    parser = subparsers.add_parser(
        "tune", help="search classifier hyperparameters with keras-tuner, tracked in MLflow",
        description="Search classifier hyperparameters with keras-tuner; one MLflow parent "
                    "run per search, one child run per trial.")
    add_search_arguments(parser)
    parser.set_defaults(func=_handle)
    return parser


def main(argv=None) -> int:
    """`python -m zoo.classification.search.cli ARGS`: `zoo tune ARGS` without the `zoo` command."""
    parser = argparse.ArgumentParser(prog="zoo tune")
    subparsers = parser.add_subparsers(dest="command")
    add_commands(subparsers)
    args = parser.parse_args(["tune", *(sys.argv[1:] if argv is None else argv)])
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())

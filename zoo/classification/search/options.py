"""What a search is asked to do: `SearchOptions`, and its command line both ways.

    parser = argparse.ArgumentParser()
    add_search_arguments(parser)            # `zoo tune` and the recipe share these
    options = options_from_args(parser.parse_args())
    argv = options_to_argv(options)         # what a launcher passes to a chief or worker

`options_from_args(parse(options_to_argv(o))) == o` for every role-less `o`:
the launcher relies on it to start processes that search the same space.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from zoo.errors import ZooError
from zoo.seed import DEFAULT_SEED
from zoo.classification.search.space import parse_override
from zoo.tuning.settings import (
    DEFAULT_ORACLE_HOST,
    DEFAULT_WORKER_TIMEOUT,
    ENV_ORACLE_IP,
    ENV_ORACLE_PORT,
    ENV_TUNER_ID,
    HEARTBEAT_SECONDS,
    MIN_WORKER_TIMEOUT,
)

EXPERIMENT = "tune"


@dataclass
class SearchOptions:
    """Everything a search needs; the command line fills it (options_from_args).

    Args:
        data: a folder of class folders, tfds:NAME, or "digits"/"faces".
        backbones: the backbones to search over.
        tuner: "random", "hyperband" or "bayesian".
        max_trials: trials at most (random, bayesian).
        objective: metric[:min|max], default val_accuracy (max).
        epochs: epochs per trial (Hyperband: its largest budget).
        image_size: input side in pixels.
        batch_size: default batch size (tunable with space={"batch_size": [...]}).
        weights: "auto" (ImageNet when available, else none), "imagenet", "none", a file.
        space: search space overrides; see zoo.classification.search.space.
        project_dir: keras-tuner's project and zoo's run mapping; same
            folder again = resume.
        tracking_uri: the MLflow store; an http server for distributed searches.
        role: "single", "chief" or "worker".
        worker_id: the worker's number (role "worker").
        oracle_host: the chief oracle's address: where the chief listens and
            workers connect (127.0.0.1 unless given; see zoo.tuning.distributed).
        oracle_port: the chief oracle's port.
        search_name: names the search's parent run (tag zoo.search.name);
            None: the project directory's name. Workers find the parent by
            the oracle's address, or by this name when it is given.
        worker_timeout: seconds a chief waits for a worker to reach its
            oracle (first, and between contacts) before it ends the search.
        median_stopping, warmup_epochs: the median stopping rule.
        retrain: train the best configuration again at the end and log it.
        retrain_on_all: ... on train + validation.
        register: register the retrained model as NAME (alias candidate).
        seed: seeds the oracle and every trial.
        max_consecutive_failed_trials: give up after this many failures in a row.
        verbose: Keras verbosity inside trials.
    """

    data: str = "digits"
    backbones: list = field(default_factory=lambda: ["mobilenet_v3_small", "resnet50"])
    tuner: str = "random"
    max_trials: int = 8
    objective: str = "val_accuracy"
    epochs: int = 5
    image_size: int = 32
    batch_size: int = 32
    weights: str = "auto"
    space: dict = field(default_factory=dict)
    project_dir: str = "runs/tune/search"
    tracking_uri: str | None = None
    experiment: str = EXPERIMENT
    role: str = "single"
    worker_id: int | None = None
    oracle_host: str = DEFAULT_ORACLE_HOST
    oracle_port: int | None = None  # None: 8765, or a free one for --launch-workers
    search_name: str | None = None
    worker_timeout: float = DEFAULT_WORKER_TIMEOUT
    median_stopping: bool = True
    warmup_epochs: int = 2
    retrain: bool = True
    retrain_on_all: bool = False
    register: str | None = None
    seed: int = DEFAULT_SEED
    max_consecutive_failed_trials: int = 5
    verbose: int = 0


def _csv(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def add_search_arguments(parser: argparse.ArgumentParser) -> None:
    """The arguments of a search; shared by `zoo tune` and the recipe."""
    d = SearchOptions()
    parser.add_argument("--tuner", choices=["random", "hyperband", "bayesian"], default=d.tuner)
    parser.add_argument("--max-trials", type=int, default=d.max_trials,
                        help="trials at most (random, bayesian)")
    parser.add_argument("--backbones", type=_csv, default=d.backbones,
                        help="comma-separated names from `zoo list`")
    parser.add_argument("--data", default=d.data,
                        help="a folder of class folders, tfds:NAME, or digits/faces")
    parser.add_argument("--objective", default=d.objective,
                        help="metric[:min|max]; loss-like names are minimised")
    parser.add_argument("--epochs", type=int, default=d.epochs,
                        help="epochs per trial (hyperband: the largest budget)")
    parser.add_argument("--image-size", type=int, default=d.image_size)
    parser.add_argument("--batch-size", type=int, default=d.batch_size)
    parser.add_argument("--weights", default=d.weights,
                        help="auto (imagenet when available), imagenet, none, or a file")
    parser.add_argument("--space", action="append", default=[], metavar="NAME=SPEC",
                        help="fix or narrow a dimension: dropout=0.2, head=linear,mlp, "
                             "learning_rate=1e-4:1e-2 (repeatable)")
    parser.add_argument("--project-dir", default=d.project_dir,
                        help="keras-tuner's project; the same folder again resumes the search")
    parser.add_argument("--tracking-uri", default=None,
                        help="MLflow store (default: $MLFLOW_TRACKING_URI, else "
                             "sqlite:///mlflow.db); an http server for --chief/--worker")
    parser.add_argument("--experiment", default=d.experiment)
    parser.add_argument("--register", metavar="NAME",
                        help="register the retrained best model as NAME, alias 'candidate'")
    parser.add_argument("--retrain-on-all", action="store_true",
                        help="retrain the best configuration on train + validation")
    parser.add_argument("--no-retrain", action="store_true",
                        help="skip retraining the best configuration at the end")
    parser.add_argument("--no-median-stopping", action="store_true",
                        help="never stop a trial early")
    parser.add_argument("--warmup-epochs", type=int, default=d.warmup_epochs,
                        help="epochs before the median rule may stop a trial")
    parser.add_argument("--max-failures", type=int, default=d.max_consecutive_failed_trials,
                        help="give up after this many failed trials in a row")
    parser.add_argument("--seed", type=int, default=d.seed)
    parser.add_argument("--verbose", type=int, default=d.verbose, choices=[0, 1, 2])
    role = parser.add_mutually_exclusive_group()
    role.add_argument("--chief", action="store_true",
                      help="serve the oracle of a distributed search (on --oracle-host)")
    role.add_argument("--worker", type=int, metavar="ID",
                      help="run trials for the chief; ID = 0, 1, ...")
    role.add_argument("--launch-workers", type=int, metavar="N",
                      help="start an MLflow server, the chief and N workers on this machine")
    parser.add_argument("--oracle-host", default=None, metavar="ADDRESS",
                        help="the chief oracle's address: the chief listens there, workers "
                             "connect there (default 127.0.0.1; the oracle has no "
                             "authentication, see the README)")
    parser.add_argument("--oracle-port", type=int, default=None,
                        help="the chief oracle's port (default 8765; --launch-workers: a free one)")
    parser.add_argument("--search-name", default=None, metavar="NAME",
                        help="name the search's parent run (default: the chief's "
                             "--project-dir folder's name); workers given it find the search "
                             "by this name instead of by the oracle's address")
    parser.add_argument("--worker-timeout", type=float, default=d.worker_timeout,
                        metavar="SECONDS",
                        help="the chief ends the search (parent run FAILED, with how to "
                             "restart) when no worker has reached its oracle for this long "
                             f"(default {d.worker_timeout:.0f}; workers report every "
                             f"{HEARTBEAT_SECONDS:.0f} s)")


def search_name(options: SearchOptions) -> str:
    """The search's name: --search-name, or the project directory's name."""
    return options.search_name or Path(options.project_dir).resolve().name


def resolve_role(args, environ=None) -> dict:
    """This process's role and oracle, from the flags and keras-tuner's variables.

    KERASTUNER_TUNER_ID=chief means --chief, tuner<N> means --worker N;
    KERASTUNER_ORACLE_IP / _PORT mean --oracle-host / --oracle-port. Either
    way of launching gives the same search; a flag and a variable that
    disagree stop the process (exit 2) rather than start a wrong one.

    Returns:
        {"role", "worker_id", "oracle_host", "oracle_port"}.

    Raises:
        zoo.arguments.ArgumentError: naming the flag and the variable that conflict.
    """
    from zoo.arguments import ArgumentError

    environ = os.environ if environ is None else environ
    tuner_id = environ.get(ENV_TUNER_ID)
    env_host, env_port = environ.get(ENV_ORACLE_IP), environ.get(ENV_ORACLE_PORT)
    role = "chief" if args.chief else ("worker" if args.worker is not None else "single")
    worker_id = args.worker
    if tuner_id is not None:
        match = re.fullmatch(r"tuner(\d+)", tuner_id.strip())
        if tuner_id.strip() == "chief":
            env_role, env_worker = "chief", None
        elif match:
            env_role, env_worker = "worker", int(match.group(1))
        else:
            raise ArgumentError(ENV_TUNER_ID, f"must be 'chief' or 'tuner<N>' (zoo's --worker "
                                              f"N). Received: {tuner_id!r}")
        meaning = "--chief" if env_role == "chief" else f"--worker {env_worker}"
        if args.launch_workers is not None:
            raise ArgumentError("--launch-workers", f"conflicts with {ENV_TUNER_ID}={tuner_id} "
                                f"in the environment (which means {meaning}): unset it to "
                                "launch a search on this machine.")
        if role != "single" and (role, worker_id) != (env_role, env_worker):
            given = "--chief" if role == "chief" else f"--worker {worker_id}"
            raise ArgumentError(given.split()[0], f"{given} conflicts with {ENV_TUNER_ID}="
                                f"{tuner_id} in the environment (which means {meaning}): "
                                "give one of the two, or make them agree.")
        role, worker_id = env_role, env_worker
    elif role == "single" and args.launch_workers is None and (env_host or env_port):
        set_name = ENV_ORACLE_IP if env_host else ENV_ORACLE_PORT
        raise ArgumentError(ENV_TUNER_ID, f"{set_name} is set in the environment, but "
                            f"neither {ENV_TUNER_ID} nor --chief / --worker N says what this "
                            f"process is: set {ENV_TUNER_ID}=chief or tuner<N>, or unset "
                            f"{set_name}.")
    host = args.oracle_host
    if env_host is not None:
        if host is not None and host != env_host:
            raise ArgumentError("--oracle-host", f"--oracle-host {host} conflicts with "
                                f"{ENV_ORACLE_IP}={env_host} in the environment: give one "
                                "of the two, or make them agree.")
        host = env_host
    port = args.oracle_port
    if env_port is not None:
        try:
            number = int(env_port)
        except ValueError:
            raise ArgumentError(ENV_ORACLE_PORT, f"must be a port number. "
                                f"Received: {env_port!r}") from None
        if port is not None and port != number:
            raise ArgumentError("--oracle-port", f"--oracle-port {port} conflicts with "
                                f"{ENV_ORACLE_PORT}={env_port} in the environment: give one "
                                "of the two, or make them agree.")
        port = number
    return {"role": role, "worker_id": worker_id, "oracle_host": host or DEFAULT_ORACLE_HOST,
            "oracle_port": port}


def options_from_args(args, environ=None):
    """A SearchOptions from parsed arguments (and keras-tuner's variables; see resolve_role)."""

    where = resolve_role(args, environ)
    return SearchOptions(
        data=args.data, backbones=list(args.backbones), tuner=args.tuner,
        max_trials=args.max_trials, objective=args.objective, epochs=args.epochs,
        image_size=args.image_size, batch_size=args.batch_size, weights=args.weights,
        space=dict(parse_override(text) for text in args.space),
        project_dir=args.project_dir, tracking_uri=args.tracking_uri,
        experiment=args.experiment, role=where["role"], worker_id=where["worker_id"],
        oracle_host=where["oracle_host"], oracle_port=where["oracle_port"],
        search_name=args.search_name, worker_timeout=args.worker_timeout,
        median_stopping=not args.no_median_stopping,
        warmup_epochs=args.warmup_epochs, retrain=not args.no_retrain,
        retrain_on_all=args.retrain_on_all, register=args.register, seed=args.seed,
        max_consecutive_failed_trials=args.max_failures, verbose=args.verbose)


def options_to_argv(options, **replace) -> list[str]:
    """The command line that gives `options` back (without a role), for subprocesses."""
    o = dataclasses.replace(options, **replace)
    argv = ["--tuner", o.tuner, "--max-trials", str(o.max_trials),
            "--backbones", ",".join(o.backbones), "--data", o.data,
            "--objective", o.objective, "--epochs", str(o.epochs),
            "--image-size", str(o.image_size), "--batch-size", str(o.batch_size),
            "--weights", str(o.weights), "--project-dir", str(o.project_dir),
            "--experiment", o.experiment, "--warmup-epochs", str(o.warmup_epochs),
            "--max-failures", str(o.max_consecutive_failed_trials), "--seed", str(o.seed),
            "--verbose", str(o.verbose)]
    for name, spec in o.space.items():
        if isinstance(spec, tuple):
            text = f"{spec[0]}:{spec[1]}"
        elif isinstance(spec, list):
            text = ",".join(str(v) for v in spec) + ("," if len(spec) == 1 else "")
        else:
            text = str(spec)
        argv += ["--space", f"{name}={text}"]
    if o.tracking_uri:
        argv += ["--tracking-uri", o.tracking_uri]
    if o.oracle_host != DEFAULT_ORACLE_HOST:
        argv += ["--oracle-host", o.oracle_host]
    if o.oracle_port:
        argv += ["--oracle-port", str(o.oracle_port)]
    if o.search_name:
        argv += ["--search-name", o.search_name]
    if o.worker_timeout != DEFAULT_WORKER_TIMEOUT:
        argv += ["--worker-timeout", repr(float(o.worker_timeout))]
    if o.register:
        argv += ["--register", o.register]
    argv += [flag for flag, on in (("--retrain-on-all", o.retrain_on_all),
                                   ("--no-retrain", not o.retrain),
                                   ("--no-median-stopping", not o.median_stopping)) if on]
    return argv


def check_search_arguments(args) -> None:
    """What can be checked before data and TensorFlow are loaded (see zoo.arguments).

    Raises:
        zoo.arguments.ArgumentError: naming the option that cannot work.
    """
    from zoo.arguments import (
        ArgumentError,
        check_backbones,
        check_classification_source,
        check_number,
        check_weights,
    )
    from zoo.classification.search.space import SearchSpace, parse_override

    check_backbones("--backbones", args.backbones, args.image_size)
    try:
        # The space's own checks (names, values, ranges) need no base config.
        space = SearchSpace(dict(parse_override(text) for text in args.space),
                            args.backbones, base=None)
    except ZooError as exc:
        raise ArgumentError("--space", str(exc)) from None
    backbones = space.overrides["backbone"]
    check_backbones("--space", [backbones] if isinstance(backbones, str) else
                    [b for b in backbones if isinstance(b, str)], args.image_size)
    check_classification_source("--data", args.data)
    check_weights("--weights", args.weights)
    for option, value, low in (("--max-trials", args.max_trials, 1), ("--epochs", args.epochs, 1),
                               ("--batch-size", args.batch_size, 1),
                               ("--warmup-epochs", args.warmup_epochs, 0),
                               ("--max-failures", args.max_failures, 1),
                               ("--worker", args.worker, 0),
                               ("--launch-workers", args.launch_workers, 1)):
        if value is not None:
            check_number(option, value, low)
    check_number("--worker-timeout", args.worker_timeout, MIN_WORKER_TIMEOUT)
    where = resolve_role(args)
    if where["oracle_port"] is not None:
        check_number("--oracle-port", where["oracle_port"], 1, 65535)
    if not where["oracle_host"].strip():
        raise ArgumentError("--oracle-host", "needs an address, e.g. 127.0.0.1 or 10.0.0.5.")

"""keras-tuner's distributed mode: one chief oracle, N workers, one MLflow server.

    zoo tune --chief    --oracle-host 10.0.0.5 --tracking-uri http://10.0.0.5:5000 ...
    zoo tune --worker 0 --oracle-host 10.0.0.5 --tracking-uri http://10.0.0.5:5000 ...
    KERASTUNER_TUNER_ID=tuner1 KERASTUNER_ORACLE_IP=10.0.0.5 KERASTUNER_ORACLE_PORT=8765 \
        zoo tune ...                                   # the same as --worker 1
    zoo tune --launch-workers 2 --project-dir P ...    # all of it on this machine

The chief serves keras-tuner's oracle over gRPC on `--oracle-host`
(127.0.0.1 unless given; its `search()` only serves, until every worker has
been told to stop), creates the parent MLflow run, tagged with the oracle's
address (zoo.search.oracle), its own host name and the search's name, and,
at the end, writes the leaderboard and retrains the best configuration.

A worker needs nothing from the chief but the oracle's address and the
tracking server: it finds the parent run there by the oracle's address (or
by `--search-name`), logs its trials as child runs under it (tagged
`zoo.worker`), and reads the median rule's history from its siblings'
metrics. Only the chief keeps state in its project directory (keras-tuner's
oracle, the run mapping); each worker's own folder holds its checkpoints.

A chief never waits forever (`serve_oracle`): a worker reports to the oracle
every HEARTBEAT_SECONDS while it trains, and a chief that has heard from no
worker for `--worker-timeout` seconds ends the search with WorkersGoneError
(the trials still waiting, and how to restart their workers); the parent run
ends FAILED. An oracle that fails while answering a worker (keras-tuner's
`--max-failures` limit) ends the chief's wait at once.

keras-tuner's oracle has no authentication: whoever reaches its port can
read the search and hand in trials. It listens on 127.0.0.1 unless
`--oracle-host` says otherwise, and then the chief prints a warning; across
machines, use a private cluster network or an SSH tunnel (see the README).

Every process logs to one MLflow tracking server, never to one SQLite file:
SQLite takes one writer at a time. `launch_local_search` starts that server
(on a SQLite store, which only the server then writes) when no http URI is given.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

from zoo import compat
from zoo.tuning.addresses import is_loopback, oracle_address, split_oracle_address
from zoo.errors import TuningError, WorkersGoneError
from zoo.tuning.settings import (
    DEFAULT_ORACLE_HOST,
    DEFAULT_WORKER_TIMEOUT,
    ENV_ORACLE_IP,
    ENV_ORACLE_PORT,
    ENV_TUNER_ID,
    HEARTBEAT_SECONDS,
)

LOOPBACK = "127.0.0.1"  # the MLflow server and the local launcher's ports stay here
DEFAULT_ORACLE_PORT = 8765


def configure_role(role: str, worker_id: int | None = None, port: int = DEFAULT_ORACLE_PORT,
                   host: str = DEFAULT_ORACLE_HOST) -> None:
    """Set keras-tuner's environment for `role`, before any tuner is built.

    Args:
        role: "single" (clears the variables), "chief" or "worker".
        worker_id: the worker's number; its tuner id becomes "tuner<N>".
        port: the oracle's port.
        host: the oracle's address: where the chief listens, where workers connect.
    """
    if role == "single":
        for name in (ENV_TUNER_ID, ENV_ORACLE_IP, ENV_ORACLE_PORT):
            os.environ.pop(name, None)
        return
    if role not in ("chief", "worker"):
        raise TuningError(f"role must be single, chief or worker. Received: {role!r}")
    if role == "worker" and (worker_id is None or int(worker_id) < 0):
        raise TuningError("A worker needs a number: --worker 0, --worker 1, ...")
    os.environ[ENV_TUNER_ID] = "chief" if role == "chief" else f"tuner{int(worker_id)}"
    # keras-tuner joins "IP:PORT" itself; an IPv6 address needs its brackets.
    os.environ[ENV_ORACLE_IP] = f"[{host}]" if ":" in host and not host.startswith("[") else host
    os.environ[ENV_ORACLE_PORT] = str(int(port))


def oracle_exposure_warning(host: str) -> str | None:
    """The warning a chief prints when its oracle listens beyond this machine, else None."""
    if is_loopback(host):
        return None
    return (f"WARNING: the oracle listens on {host}. keras-tuner's oracle has no "
            "authentication: anyone who can reach this port can read the search and hand in "
            "trials. Expose it only on a private cluster network, or keep the default "
            "127.0.0.1 and let workers reach it through an SSH tunnel (README, 'Tune "
            "hyperparameters').")


def serve_oracle(oracle, *, worker_timeout: float = DEFAULT_WORKER_TIMEOUT,
                 poll: float = 1.0) -> None:
    """The chief's part of a search: serve `oracle` until the search is over.

    keras-tuner's own chief loop, with two ways out that it lacks: it
    returns once every worker has been told to stop and no trial is
    running (as keras-tuner does), and it raises when no worker has reached
    the oracle for `worker_timeout` seconds, or when the oracle failed
    answering one. It listens where keras-tuner's variables say
    (configure_role).

    Raises:
        WorkersGoneError: no worker for `worker_timeout` s; says which
            trials wait and how to restart their workers.
        RuntimeError: keras-tuner's own, from answering a worker (e.g. its
            limit of failed trials in a row).
        TuningError: the address cannot be listened on.
    """
    from concurrent import futures

    import grpc

    servicer, add_to_server = compat.chief_oracle_service(oracle)
    watched = _WatchedService(servicer)
    # Without SO_REUSEPORT: a second chief on the same port fails at once
    # instead of sharing it (and its workers) with the first.
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=1),
                         options=[("grpc.so_reuseport", 0)])
    add_to_server(watched, server)
    host, port = os.environ[ENV_ORACLE_IP], os.environ[ENV_ORACLE_PORT]
    address = oracle_address(host, port)
    try:
        listening = server.add_insecure_port(f"{host}:{port}")
    except RuntimeError:
        listening = 0
    if not listening:
        raise TuningError(f"The oracle cannot listen on {address}: the port is taken, or the "
                          "address is not one of this machine's. Choose another "
                          "--oracle-port, or give --oracle-host an address of this machine.")
    server.start()
    try:
        while True:
            time.sleep(poll)
            if watched.error is not None:
                raise watched.error
            ongoing, waiting = compat.oracle_waits_for(oracle)
            if servicer.stop_triggered and not ongoing and not waiting:
                return
            if time.monotonic() - watched.last_contact > worker_timeout:
                raise WorkersGoneError(workers_gone_message(
                    address, worker_timeout, ongoing, waiting, watched.contacted))
    finally:
        server.stop(grace=None)


class _WatchedService:
    """Answers the oracle's gRPC calls with keras-tuner's servicer, noting
    when a worker last called and the first error an answer raised."""

    def __init__(self, servicer):
        self._servicer = servicer
        self.last_contact = time.monotonic()  # the first worker has worker_timeout to come
        self.contacted = False
        self.error: BaseException | None = None

    def __getattr__(self, name):
        method = getattr(self._servicer, name)

        def answer(request, context):
            self.last_contact = time.monotonic()
            self.contacted = True
            try:
                return method(request, context)
            except Exception as exc:  # the worker gets it too; the chief stops waiting
                if self.error is None:
                    self.error = exc
                raise
        return answer


def workers_gone_message(address: str, timeout: float, ongoing: dict, waiting: set,
                         contacted: bool) -> str:
    """What a chief says when it stops waiting for its workers."""
    if contacted:
        said = (f"No worker has reached the oracle on {address} for {timeout:.0f} s "
                "(--worker-timeout): the chief stopped waiting.")
    else:
        said = (f"No worker reached the oracle on {address} within {timeout:.0f} s "
                "(--worker-timeout).")
    host, port = split_oracle_address(address)
    where = f"--oracle-host {host} --oracle-port {port}"
    if not ongoing and not waiting:
        return (f"{said} Start workers with `zoo tune --worker N {where} --tracking-uri URI` "
                "and the chief's search arguments, or give the chief a longer "
                "--worker-timeout.")
    trials = ", ".join(f"trial {trial} (worker {tuner})"
                       for tuner, trial in sorted(ongoing.items()))
    restart = ", ".join(_restart_command(tuner) for tuner in sorted(set(ongoing) | waiting))
    return (f"{said} " + (f"Trials still waiting: {trials}. " if trials else "")
            + "To go on, start the chief again with the same --project-dir (finished trials "
            f"are kept), then these workers with the same numbers: {restart}, with {where}, "
            "the same --tracking-uri and search arguments; each gets its unfinished trial back.")


def _restart_command(tuner_id: str) -> str:
    number = re.fullmatch(r"tuner(\d+)", tuner_id)
    if number:
        return f"`zoo tune --worker {number.group(1)} ...`"
    return f"`{ENV_TUNER_ID}={tuner_id} zoo tune ...`"


@contextlib.contextmanager
def reporting_alive(oracle_client, every: float = HEARTBEAT_SECONDS):
    """While a worker trains: ask the chief's oracle for its space every
    `every` seconds, so that the chief knows the worker is alive (a trial
    may run for hours between the worker's own calls)."""
    done = threading.Event()

    def beat():
        while not done.wait(every):
            try:
                oracle_client.get_space()
            except Exception:  # noqa: BLE001 the chief is away; the trial's next call says so
                pass

    thread = threading.Thread(target=beat, name="zoo-oracle-heartbeat", daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()


def free_port() -> int:
    """A TCP port nobody listens on at the moment, on 127.0.0.1."""
    with socket.socket() as probe:
        probe.bind((LOOPBACK, 0))
        return probe.getsockname()[1]


def start_mlflow_server(store_uri: str, port: int | None = None, timeout: float = 120.0):
    """Start `mlflow server` on 127.0.0.1 and wait until it answers.

    Args:
        store_uri: its backend store, e.g. sqlite:////abs/path/mlflow.db;
            artifacts go to `mlartifacts` beside a SQLite file.
        port: default: a free one.
        timeout: seconds to wait for its health check.

    Returns:
        (process, "http://127.0.0.1:PORT").
    """
    from zoo.tracking.store import ARTIFACTS_FOLDER, resolve_tracking_uri, sqlite_path

    store_uri = resolve_tracking_uri(store_uri)
    port = port or free_port()
    db = sqlite_path(store_uri)
    artifacts = (Path(db).parent if db else Path.cwd()) / ARTIFACTS_FOLDER
    command = [sys.executable, "-m", "mlflow", "server", "--host", LOOPBACK,
               "--port", str(port), "--backend-store-uri", store_uri,
               "--artifacts-destination", str(artifacts), "--workers", "1"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               start_new_session=True)
    url = f"http://{LOOPBACK}:{port}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise TuningError(f"mlflow server exited at once: "
                              f"{process.stderr.read().decode(errors='replace')[-2000:]}")
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2) as answer:
                if answer.status == 200:
                    return process, url
        except OSError:
            time.sleep(0.5)
    stop_process(process)
    raise TuningError(f"mlflow server did not answer on {url} within {timeout:.0f} s.")


def stop_process(process, grace: float = 10.0) -> None:
    """SIGTERM a process we started (its whole session), then SIGKILL after `grace`."""
    if process is None or process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        process.wait(grace)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def launch_local_search(n_workers: int, command, *, project_dir, tracking_uri: str | None = None,
                        oracle_port: int | None = None, stale_files=(),
                        timeout: float | None = None, log_dir=None) -> int:
    """A distributed search on this machine: MLflow server, chief, N workers.

    Starts `mlflow server` when `tracking_uri` is not an http URI (on that
    SQLite store, default sqlite:///mlflow.db), then the chief, then the
    workers, waits for all of them and stops whatever is left.

    Args:
        n_workers: worker processes, at least 1.
        command: `command(tracking_uri, oracle_port)` -> the argv of one search
            process without its role; `--chief` or `--worker N` is added.
        project_dir: the search's project folder (its run tree's file).
        tracking_uri: the store; an http URI is used as it is.
        oracle_port: the chief's port; default a free one.
        stale_files: files an earlier attempt may have left (its result),
            removed first so that they cannot pass for this attempt's.
        timeout: seconds for the whole search; None waits as long as it takes.
        log_dir: where each process's output goes (default: the project
            directory's `logs/`).

    Returns:
        The chief's exit status (0: the search finished).
    """
    from zoo.tuning.run_tree import SearchRuns

    if n_workers < 1:
        raise TuningError(f"--launch-workers takes at least 1. Received: {n_workers}")
    project_dir = Path(project_dir).resolve()
    log_dir = Path(log_dir or project_dir / "logs")
    log_dir.mkdir(parents=True, exist_ok=True)
    for stale in stale_files:
        Path(stale).unlink(missing_ok=True)
    server = None
    processes = []
    uri = tracking_uri or ""
    try:
        if not uri.startswith(("http://", "https://")):
            server, uri = start_mlflow_server(uri or None)
            print(f"MLflow server on {uri} (store {tracking_uri or 'sqlite:///mlflow.db'})")
        port = oracle_port or free_port()
        env = environment_for_children()

        def start(role_args, name):
            log = open(log_dir / f"{name}.log", "w")
            process = subprocess.Popen(command(uri, port) + role_args, env=env, stdout=log,
                                       stderr=subprocess.STDOUT, start_new_session=True)
            processes.append((name, process, log))
            return process

        chief = start(["--chief"], "chief")
        SearchRuns(project_dir, uri).wait_for_parent(timeout=600)
        for index in range(n_workers):
            start(["--worker", str(index)], f"tuner{index}")
        print(f"Chief and {n_workers} workers started; logs in {log_dir}")
        progress = _LogFollower(log_dir, [name for name, _, _ in processes])
        deadline = None if timeout is None else time.monotonic() + timeout
        while any(p.poll() is None for _, p, _ in processes):
            if deadline is not None and time.monotonic() > deadline:
                raise TuningError(f"The search took over {timeout:.0f} s; stopped it.")
            progress.relay()
            time.sleep(0.5)
        progress.relay()
        for name, process, _ in processes:
            if process.returncode:
                print(f"{name} exited with status {process.returncode}; see "
                      f"{log_dir / (name + '.log')}")
        return chief.returncode
    finally:
        for _, process, log in processes:
            stop_process(process)
            log.close()
        stop_process(server)


def environment_for_children() -> dict:
    """The environment of a chief or worker: ours, with TensorFlow's C++ logs quiet."""
    env = dict(os.environ)
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    return env


class _LogFollower:
    """Relays the progress lines ("[3/8] trial-0002 completed ...") that the
    processes of a local search write to their logs, as they appear."""

    def __init__(self, log_dir: Path, names):
        self.paths = {name: log_dir / f"{name}.log" for name in names}
        self.offsets = dict.fromkeys(names, 0)

    def relay(self) -> None:
        for name, path in self.paths.items():
            try:
                with open(path, "rb") as handle:
                    handle.seek(self.offsets[name])
                    text = handle.read()
            except OSError:
                continue
            complete = text.rfind(b"\n") + 1  # a half-written line waits for the next call
            self.offsets[name] += complete
            for line in text[:complete].decode(errors="replace").splitlines():
                if line.startswith("["):
                    print(f"{name}: {line}", flush=True)

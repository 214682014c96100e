"""What every recipe does around its own story, written once.

A recipe's `main()` reads as its numbered story: data, model, train,
evaluate, save. Everything around that story is the same for every family
and lives here:

- the common options (`add_run_arguments`);
- the tracking server's check, before the data is read;
- the strategy, made before any other TensorFlow work when the run spans
  several machines, and the chief/worker split;
- the output folder and its checkpoints, and what `--resume` continues;
- one tracked MLflow run, its on-disk spool, and best-effort logging of files
  and tags;
- one point per epoch: a resumed run re-trains the epochs after its newest
  intact checkpoint, and the epochs the run already holds are not logged again;
- the model, logged and, on `--register`, registered;
- the end message: the run, the saved files, what waits to be sent, the UI.

    args = parse_args(argv)                      # add_run_arguments(parser, ...)
    run = RecipeRun(args, "pix2pix")
    data = ...                                   # 1. data
    previous = run.open_output("edges2photos_64px")
    config = ...                                 # from `previous` when resuming
    if not run.is_chief:                         # a worker trains its share only
        train(...)
        return run.worker_finished()
    with run.tracked("pix2pix-edges2photos", params=...):
        train(..., callbacks=[run.epoch_callback()])
        ...
        run.log_model(served, example, saved=path, metric="test/psnr", chance_level=...)
    run.print_end({"Generator": path})
"""

from __future__ import annotations

import argparse
import sys
from contextlib import contextmanager
from pathlib import Path

from zoo.errors import ZooError
from zoo.precision import MIXED_PRECISION
from zoo.seed import DEFAULT_SEED

STRATEGIES = ("default", "mirrored", "multi_worker")


def add_run_arguments(parser: argparse.ArgumentParser, *, saves: str,
                      registers: str | None = "the model as NAME",
                      champion_when: str = "it beats the current champion",
                      resumable: bool = True, distributed: bool = True,
                      seed: int = DEFAULT_SEED) -> None:
    """The options every recipe takes, with the same names and help everywhere.

    Args:
        parser: the recipe's parser.
        saves: what `--output-dir` holds, e.g. "checkpoints and the saved model".
        registers: what `--register NAME` registers, e.g. "the model as NAME";
            None: the recipe registers nothing, and has no `--register`.
        champion_when: when the new version becomes the registry's champion.
        resumable: the recipe continues a run with `--resume`.
        distributed: the recipe trains under `--strategy` (and `--jit-compile`,
            `--mixed-precision`).
    """
    group = parser.add_argument_group("run options (every recipe)")
    if distributed:
        group.add_argument("--strategy", choices=STRATEGIES, default="default",
                           help="mirrored: every local device; multi_worker: several "
                                "machines, each running this command with its own TF_CONFIG")
        group.add_argument("--jit-compile", action="store_true",
                           help="XLA-compile the train step")
        group.add_argument("--mixed-precision", choices=MIXED_PRECISION, default="auto",
                           help="compute dtype (variables stay float32): float16 with loss "
                                "scaling (GPUs), bfloat16 (CPUs with AMX or AVX512_BF16, "
                                "recent GPUs), off, or auto (default): what was measured "
                                "fastest here (zoo/precision.py)")
    group.add_argument("--seed", type=int, default=seed)
    if resumable:
        group.add_argument("--resume", action="store_true",
                           help="continue the last run of this configuration from its "
                                "checkpoint")
    if registers is not None:
        group.add_argument("--register", metavar="NAME",
                           help=f"register {registers} (alias 'candidate'; 'champion' when "
                                f"{champion_when})")
    group.add_argument("--tracking-uri", default=None,
                       help="MLflow store (default: $MLFLOW_TRACKING_URI, else "
                            "sqlite:///mlflow.db)")
    group.add_argument("--output-dir", default=None,
                       help=f"{saves} (default: runs/EXPERIMENT/ and a name of the "
                            f"configuration)")
    group.add_argument("--verbose", action="store_true",
                       help="show TensorFlow's start-up logs (hidden by default)")


def run_recipe(main, prog: str) -> None:
    """A recipe's `if __name__ == "__main__":`: bad input is said in one line
    (what and how to fix it), never as a traceback; an int from `main` is the
    exit status."""
    try:
        status = main()
    except ZooError as error:
        sys.exit(f"{prog}: error: {error}")
    sys.exit(status if isinstance(status, int) else None)


class RecipeRun:
    """One recipe's run: its strategy, output folder, MLflow run and spool.

    Creating it checks the tracking server (a server that is down is
    reported before the data is read) and, for `--strategy multi_worker`,
    makes the strategy, which TensorFlow wants before any other TF work.

    Args:
        args: the recipe's parsed arguments, with `add_run_arguments`'s options.
        experiment: the MLflow experiment, and the folder under `runs/`.
    """

    def __init__(self, args, experiment: str):
        from zoo import tracking

        self.args = args
        self.experiment = experiment
        # Options a recipe may lack (add_run_arguments' resumable=False, registers=None).
        self.resume = getattr(args, "resume", False)
        self.register = getattr(args, "register", None)
        self.tracking_uri = tracking.resolve_tracking_uri(args.tracking_uri)
        tracking.require_reachable(self.tracking_uri)
        from zoo.training import is_chief, make_strategy

        strategy = getattr(args, "strategy", "default")
        self.strategy = make_strategy(strategy) if strategy == "multi_worker" else None
        self.is_chief = is_chief(self.strategy)
        self.output: Path | None = None
        self.checkpointer = None
        self.previous: dict | None = None
        self.run_id: str | None = None
        self.spool = None
        self.steps = None
        self.unsent = 0
        self.model_uri: str | None = None
        self._logged: dict[str, int] = {}

    # -- the output folder ----------------------------------------------------

    def open_output(self, name: str | None = None) -> dict | None:
        """Use `--output-dir`, else `runs/EXPERIMENT/name` (`runs/EXPERIMENT`
        without a name), for this run's files.

        Returns:
            The newest intact checkpoint's state when `--resume` finds one
            there (its "config" is the run's configuration), else None.
        """
        from zoo.training.checkpoint import Checkpointer

        default = Path("runs") / self.experiment
        self.output = Path(self.args.output_dir or (default / name if name else default))
        self.checkpointer = Checkpointer(self.output / "checkpoints")
        self.previous = self.checkpointer.load_state() if self.resume else None
        if self.resume and self.previous is None:
            print(f"[resume] No checkpoint in {self.checkpointer.directory}: starting a new run.")
        return self.previous

    @property
    def resuming(self) -> bool:
        return self.previous is not None

    @property
    def checkpoint_dir(self) -> Path:
        return self.checkpointer.directory

    @property
    def extra_state(self) -> dict:
        """What the checkpoints keep for `--resume` to find this MLflow run again."""
        return {"run_id": self.run_id}

    def worker_finished(self) -> None:
        """A worker other than the chief trains its share and keeps nothing."""
        print("Worker finished; the chief holds the run and the model.")

    # -- the tracked run --------------------------------------------------------

    @contextmanager
    def tracked(self, run_name: str, *, params: dict, tags: dict | None = None):
        """One MLflow run, a resumed run continuing the same one.

        Metrics wait in a spool file beside the checkpoints until the
        tracking server has them, so training never waits on it; a resume
        first sends what an earlier attempt could not. Files and tags the
        server cannot take wait in the spool too (`self.steps`).
        """
        from zoo import tracking
        from zoo.tracking.offline import BestEffort
        from zoo.tracking.spool import MetricSpool

        run_id = self.previous["extra"].get("run_id") if self.previous else None
        if run_id:
            self._send_earlier_metrics(run_id)
        with tracking.tracked_run(self.experiment, run_name=run_name,
                                  tracking_uri=self.args.tracking_uri, run_id=run_id,
                                  tags=tracking.standard_tags(self.experiment,
                                                              **(tags or {}))) as run:
            self.run_id = run.info.run_id
            tracking.log_config(params)
            self._logged = _last_logged_steps(self.run_id) if run_id else {}
            self.spool = MetricSpool.for_run(self.output, self.run_id)
            self.steps = BestEffort(self.spool)
            try:
                yield self
            finally:
                self.unsent = self.spool.close()

    def epoch_callback(self, *, prefix: str = "", only: str = "", on_logged=None):
        """The Keras callback that logs each epoch to this run at step `epoch`,
        under the names the run page shows first (`epoch/...`, then `lr` and
        `phase`), through the run's spool.

        A resume from a checkpoint older than the run's newest logged epoch (a
        kill between an epoch's log and its checkpoint, or a damaged newest
        checkpoint) trains those epochs again. MLflow cannot delete points, so
        values the run already holds at that step are not logged twice: one
        point per epoch.

        Args:
            prefix, only: a second model's curves (`prefix`), or some values
                only (`only="val_"`); see `MlflowMetricsCallback`.
            on_logged: `on_logged(epoch, model)` after each epoch logged here
                (not one the run already held), e.g. a sample grid.
        """
        from zoo.tracking.callback import MlflowMetricsCallback

        return MlflowMetricsCallback(run_id=self.run_id, prefix=prefix, only=only,
                                     logged_through=self._logged, on_logged=on_logged,
                                     spool=self.spool)

    def log_metrics(self, metrics: dict) -> None:
        """Final scores: they wait in the spool like the epochs' values."""
        self.spool.log_metrics(metrics)

    def log_model(self, model, example, *, name: str | None = None,
                  registered_name: str | None = None, metric: str,
                  chance_level: float | None) -> list[str]:
        """Log `model` with a signature from `example` and, on `--register`, register it.

        Args:
            name: the model's name in the run (default "model").
            registered_name: the registry name (default `--register`'s).
            metric, chance_level: the registry promotes the new version to
                champion only when the run's `metric` beats the champion's
                and `chance_level` (never a champion that does no better than
                a trivial model).

        Returns:
            The description's lines about the model.
        """
        from zoo import tracking
        from zoo.tracking.offline import model_lines, register_logged_model

        label = "MLflow model" if name is None else f"MLflow model {name}"
        extra = {} if name is None else {"name": name}
        info = self.steps(label, tracking.log_keras_model, model, example, **extra)
        model_uri, lines = model_lines(self.steps, info, self.run_id)
        self.model_uri = self.model_uri or model_uri
        registered_name = registered_name or self.register
        if self.register:
            lines += register_logged_model(self.steps, self.spool, info, registered_name,
                                           metric=metric, chance_level=chance_level)
        return lines

    def log_results(self, page: Path, table: str) -> None:
        """The results page, and the scores table as `evaluation/scores.txt`."""
        import mlflow

        self.steps("results page", mlflow.log_artifact, str(page))
        self.steps("scores table", mlflow.log_text, table, "evaluation/scores.txt")

    def describe(self, markdown: str) -> None:
        """Show `markdown` as the run's description in the MLflow UI."""
        from zoo.tracking.names import set_run_description

        self.steps("run description", set_run_description, markdown)

    def print_end(self, saved: dict[str, str], model_file: Path) -> None:
        """What a person wants to know at the end: the run, the files, the UI.

        Args:
            saved: label -> line, e.g. {"Model": "runs/classify/.../model.keras"}.
            model_file: the file written before anything was sent, named when
                the tracking server did not get everything.
        """
        print(f"MLflow run: {self.run_id}  (experiment '{self.experiment}', "
              f"store {self.tracking_uri})")
        for label, line in saved.items():
            print(f"{label}: {line}")
        self.print_unsent(model_file)
        print(f"Open the MLflow UI: zoo ui --tracking-uri {self.tracking_uri}   "
              f"(or: make ui)")

    def print_unsent(self, saved: Path) -> None:
        """What the tracking server has not received of the last tracked run,
        and how to send it; nothing when it has everything."""
        from zoo.tracking.offline import print_unsent

        print_unsent(self.steps, self.spool, self.unsent, saved, self.model_uri,
                     self.register)

    def _send_earlier_metrics(self, run_id: str) -> None:
        """Send what an earlier attempt of run `run_id` kept on disk, if anything.

        When the server still cannot take it, it stays in the file, and this
        attempt's spool sends it first, in order.
        """
        from zoo import tracking
        from zoo.tracking.spool import spool_path

        path = spool_path(self.output, run_id)
        if not path.exists():
            return
        try:
            count = tracking.flush_spool(path)
            if count:
                print(f"[tracking] Sent {count} records an earlier attempt of run {run_id} "
                      f"kept in {path}.")
        except ZooError as exc:
            print(f"[tracking] {exc}")


def _last_logged_steps(run_id: str) -> dict[str, int]:
    """Metric name -> the last step run `run_id` holds a value at."""
    import mlflow

    client = mlflow.MlflowClient()
    return {key: max((point.step for point in client.get_metric_history(run_id, key)),
                     default=-1)
            for key in client.get_run(run_id).data.metrics}

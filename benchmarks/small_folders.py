"""The classify recipe with default flags on small folders zoo has never seen,
beside the baselines it reports: its test accuracy, the logistic regression
on 8x8 pixels and the majority class, for several seeds; and on digits,
against notebook 02's small CNN (0.992 on the same test split).

Offline (no ImageNet weights), the defaults train zoo's SmallResNet from
scratch; with weights cached, they do transfer learning. The folders are
benchmarks/folders.py's: textures (10 classes x 24 training images), shapes
(6 x 40) and glyphs (10 x 30), 32 px, each with its own test/.

    python benchmarks/small_folders.py [--seeds 0 1 2] [--out /tmp/zoo-folders]

Goal: the mean test accuracy over the seeds at or above the logistic
regression's on every folder, and at or above 0.992 on digits.
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from folders import MAKERS  # noqa: E402

RECIPE = Path(__file__).resolve().parents[1] / "recipes" / "classify.py"
NOTEBOOK_CNN_DIGITS = 0.992  # notebooks/02_cnn.ipynb, CNN with augmentation, test split


def run_recipe(data: str, seed: int, workdir: Path) -> dict:
    """One default run; its test scores, read back from its MLflow run."""
    import mlflow

    store = f"sqlite:///{workdir / 'mlflow.db'}"
    subprocess.run([sys.executable, str(RECIPE), "--data", data, "--seed", str(seed),
                    "--tracking-uri", store, "--output-dir",
                    str(workdir / "runs" / f"{Path(data).name}-{seed}")],
                   check=True, cwd=workdir, stdout=subprocess.DEVNULL,
                   env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    client = mlflow.MlflowClient(store)
    experiment = client.get_experiment_by_name("classify")
    run = client.search_runs([experiment.experiment_id], order_by=["start_time DESC"],
                             max_results=1)[0]
    metrics = run.data.metrics
    return {"model": metrics["test/accuracy"], "logistic": metrics["test/logistic_accuracy"],
            "majority": metrics["test/majority_class_accuracy"],
            "backbone": run.data.params["train.backbone"]}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--out", type=Path, default=None,
                        help="where the folders and runs go (default: a temporary folder)")
    parser.add_argument("--folders", nargs="+", default=[*MAKERS, "digits"],
                        choices=[*MAKERS, "digits"])
    args = parser.parse_args(argv)
    # SIGTERM as an exception: subprocess.run then kills the recipe it waits
    # for, instead of leaving it running when this script is stopped.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    with tempfile.TemporaryDirectory() as scratch:
        out = args.out or Path(scratch)
        out.mkdir(parents=True, exist_ok=True)
        rows, failures = [], []
        for name in args.folders:
            data = "digits" if name == "digits" else str(MAKERS[name](out))
            scores = [run_recipe(data, seed, out) for seed in args.seeds]
            mean = {key: statistics.mean(s[key] for s in scores)
                    for key in ("model", "logistic", "majority")}
            bar = NOTEBOOK_CNN_DIGITS if name == "digits" else mean["logistic"]
            per_seed = " ".join(f"{s['model']:.3f}" for s in scores)
            rows.append(f"| {name} | {scores[0]['backbone']} | {mean['model']:.3f} ({per_seed}) "
                        f"| {mean['logistic']:.3f} | {mean['majority']:.3f} | {bar:.3f} |")
            if mean["model"] < bar:
                failures.append(name)
            print(rows[-1], flush=True)
    print("\n| data | backbone | test accuracy, mean (per seed) | logistic regression "
          "| majority class | goal |\n|---|---|---|---|---|---|")
    print("\n".join(rows))
    print(f"seeds {args.seeds}; goal: at or above the goal column "
          f"{'- met' if not failures else '- missed on ' + ', '.join(failures)}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

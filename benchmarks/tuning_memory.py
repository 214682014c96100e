"""Memory over a long search: does RSS stay flat from trial to trial?

Runs 20 tiny trials of a random search (heads on cached resnet50 features,
digits at 32 px, MLflow child runs in a SQLite store under a temporary
folder) and prints, after trial 5 and after trial 20, the peak RSS
(`getrusage(RUSAGE_SELF).ru_maxrss`) and the current RSS (psutil), and the
growth between the two.

    python benchmarks/tuning_memory.py [--trials 20] [--backbone resnet50]

Goal: under 10% growth from trial 5 to trial 20. zoo clears the Keras
session and collects garbage after every trial, and makes the per-trial
callbacks anew (nothing accumulates in callbacks copied across trials).
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def rss_mib() -> tuple[float, float]:
    """(peak RSS, current RSS) of this process in MiB."""
    import psutil

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    peak_bytes = peak if sys.platform == "darwin" else peak * 1024  # macOS: bytes; Linux: KiB
    return peak_bytes / 2**20, psutil.Process().memory_info().rss / 2**20


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--backbone", default="resnet50")
    parser.add_argument("--epochs", type=int, default=2)
    args = parser.parse_args(argv)

    scratch = tempfile.mkdtemp(prefix="zoo-tuning-memory-")
    os.environ.setdefault("ZOO_CACHE_DIR", os.path.join(scratch, "cache"))
    from zoo.classification.search.options import SearchOptions
    from zoo.classification.search.search import run_search

    samples = {}

    def progress(line):
        print(line, flush=True)
        if line.startswith("["):
            done = int(line[1:line.index("/")])
            samples[done] = rss_mib()

    options = SearchOptions(
        data="digits", backbones=[args.backbone], max_trials=args.trials, epochs=args.epochs,
        image_size=32, weights="none", project_dir=os.path.join(scratch, "project"),
        tracking_uri=f"sqlite:///{scratch}/mlflow.db", retrain=False, median_stopping=False,
        space={"head": ["linear", "mlp"]})
    run_search(options, progress=progress)

    first, last = min(5, args.trials), args.trials
    (peak5, now5), (peak20, now20) = samples[first], samples[last]
    print(f"\nafter trial {first:2d}: peak RSS {peak5:8.1f} MiB   current RSS {now5:8.1f} MiB")
    print(f"after trial {last:2d}: peak RSS {peak20:8.1f} MiB   current RSS {now20:8.1f} MiB")
    print(f"growth: peak {100 * (peak20 / peak5 - 1):+.1f}%   "
          f"current {100 * (now20 / now5 - 1):+.1f}%   (goal: under +10%)")


if __name__ == "__main__":
    main()

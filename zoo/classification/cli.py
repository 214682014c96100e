"""`zoo predict`: classify image files and folders with a saved classifier.

    zoo predict MODEL IMAGE_OR_FOLDER... [--top-k K] [--csv OUT]

Output: one line per image, tab-separated: the path, then the top-k
`label:probability` pairs, most probable first. Skipped files are summed up
on stderr. `--csv OUT` also writes the long form of `prediction_csv.py`.
"""

from __future__ import annotations

import argparse
import os
import sys

from zoo.errors import PredictError
from zoo.data.image_files import collect_image_files
from zoo.classification.model_io import CLASS_NAMES_FILE, load_model_and_class_names
from zoo.classification.predict import (
    DEFAULT_BATCH_SIZE,
    DEFAULT_TOP_K,
    predict_paths,
    skip_summary,
)
from zoo.classification.prediction_csv import write_csv


def add_commands(subparsers):
    """Add `predict` to the `zoo` command's subparsers.

    Args:
        subparsers: what `parser.add_subparsers()` returned.

    Returns:
        The `predict` parser.
    """
    predict = subparsers.add_parser(
        "predict", help="classify image files and folders with a saved classifier",
        description="Classify images with a saved classifier. Prints one line per image: "
                    "the path, then the top-k label:probability pairs, tab-separated. "
                    f"Class names come from a {CLASS_NAMES_FILE} (a JSON list, entry i "
                    "naming class i) next to the .keras file or among the MLflow model's "
                    "artifacts; without one, class indices are printed.")
    predict.add_argument("model", metavar="MODEL",
                         help=".keras file or MLflow model URI (models:/NAME@champion, "
                              "runs:/RUN_ID/model)")
    predict.add_argument("inputs", nargs="+", metavar="IMAGE_OR_FOLDER",
                         help="image files and folders (searched recursively; hidden files "
                              "and non-images are skipped)")
    predict.add_argument("--top-k", type=_positive_int, default=DEFAULT_TOP_K, metavar="K",
                         help=f"classes to print per image (default {DEFAULT_TOP_K})")
    predict.add_argument("--csv", metavar="OUT", default=None,
                         help="also write path,rank,label,probability rows to this CSV file")
    predict.add_argument("--batch-size", type=_positive_int, default=DEFAULT_BATCH_SIZE,
                         metavar="N", help=f"images per model call (default {DEFAULT_BATCH_SIZE})")
    predict.set_defaults(func=_cmd_predict)
    return predict


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, not {text!r}")
    return value


def _cmd_predict(args) -> int:
    skipped = []

    def record(path, reason):
        skipped.append((path, reason))

    files = collect_image_files(args.inputs, record)
    if args.csv:
        folder = os.path.dirname(os.path.abspath(args.csv))
        if not os.path.isdir(folder):
            raise PredictError(f"--csv {args.csv}: the folder {folder} does not exist.")
    model, class_names = load_model_and_class_names(args.model)
    # The bar only where a person watches: its redraws would litter a log file.
    show_progress = len(files) > args.batch_size and sys.stderr.isatty()
    predictions = predict_paths(model, files, top_k=args.top_k, class_names=class_names,
                                batch_size=args.batch_size, on_skip=record,
                                progress=show_progress)
    for prediction in predictions:
        print(prediction.format_line())
    if skipped:
        print(f"zoo predict: {skip_summary(skipped)}", file=sys.stderr)
    if args.csv:
        try:
            rows = write_csv(predictions, args.csv)
        except OSError as exc:
            raise PredictError(f"--csv {args.csv}: cannot write ({exc.strerror or exc}).") \
                from None
        print(f"zoo predict: wrote {rows} rows to {args.csv}", file=sys.stderr)
    return 0

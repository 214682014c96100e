"""Predictions as CSV in long form: one row per image and rank.

`path,rank,label,probability` (rank 1 is the most probable). Long form keeps
the columns the same for any k and loads straight into a data frame.
"""

from __future__ import annotations

import csv
import io

from zoo.files import atomic_write_bytes

CSV_HEADER = ("path", "rank", "label", "probability")


def write_csv(predictions, path: str) -> int:
    """Write predictions as `path,rank,label,probability` rows (rank 1 = best).

    Args:
        predictions: `Prediction`s.
        path: the CSV file to write (replaced whole, never left half-written).

    Returns:
        The number of rows written, header not counted.
    """
    text = io.StringIO(newline="")
    writer = csv.writer(text)
    writer.writerow(CSV_HEADER)
    rows = 0
    for prediction in predictions:
        for rank, (label, probability) in enumerate(
                zip(prediction.labels, prediction.probabilities), start=1):
            writer.writerow([prediction.path, rank, label, f"{probability:.6f}"])
            rows += 1
    atomic_write_bytes(path, text.getvalue().encode("utf-8"))
    return rows

"""The leaderboard of a search: its ended trials, best score first, in the parent run.

    rows = runs.leaderboard("max")      # zoo.tuning.run_tree.SearchRuns reads the trials
    runs.log_leaderboard("max")         # leaderboard.json and leaderboard.csv in the parent

A row is one ended trial, as SearchRuns reads it from the trial's child run:
{"trial": "trial-0003", "status", "score" (None when it has none), "worker",
"run_id", "hp.NAME": value...}; `rank_rows` orders the rows and numbers them
("rank", from 1). The JSON holds the rows as they are; the CSV has a column
per hp.* name of any row, MISSING where a trial had no such hyperparameter.

This module only orders and writes rows: the run tree (zoo.tuning.run_tree)
imports it, never the other way round.
"""

from __future__ import annotations

import csv
import io
import json

from zoo.text import format_table

# What a trial without a hyperparameter shows for it: in the leaderboard, and
# as its hp.* param, so that MLflow's parallel coordinates compare all trials.
MISSING = "n/a"
LEADERBOARD_JSON = "leaderboard.json"
LEADERBOARD_CSV = "leaderboard.csv"


def rank_rows(rows: list[dict], direction: str = "max") -> list[dict]:
    """`rows` sorted best score first (unscored trials last, then by trial name),
    each given its "rank"; sorted in place, and returned.

    Args:
        rows: one per ended trial (see the module's docstring).
        direction: "max" when a higher score is better, "min" when lower is.
    """
    sign = -1.0 if direction == "max" else 1.0
    rows.sort(key=lambda r: (r["score"] is None,
                             sign * r["score"] if r["score"] is not None else 0.0,
                             r["trial"]))
    for rank, row in enumerate(rows, 1):
        row["rank"] = rank
    return rows


def write_leaderboard(client, run_id: str, rows: list[dict]) -> None:
    """Store the leaderboard in run `run_id` (JSON and CSV), replacing the last one.

    Args:
        client: an MlflowClient of the run's store.
        run_id: the search's parent run.
        rows: the ranked rows (rank_rows).
    """
    client.log_text(run_id, json.dumps(rows, indent=1), LEADERBOARD_JSON)
    client.log_text(run_id, leaderboard_csv(rows), LEADERBOARD_CSV)


def leaderboard_csv(rows: list[dict]) -> str:
    columns = ["rank", "trial", "status", "score", "worker"]
    columns += sorted({k for row in rows for k in row if k.startswith("hp.")})
    columns.append("run_id")
    out = io.StringIO()
    writer = csv.DictWriter(out, columns, extrasaction="ignore", restval=MISSING)
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def format_leaderboard(rows: list[dict], limit: int = 10) -> str:
    """The leaderboard's first rows as a text table, for the terminal."""
    if not rows:
        return "(no finished trials)"
    names = sorted({k for row in rows for k in row if k.startswith("hp.")
                    and not k.startswith("hp.tuner/")})
    header = ["rank", "trial", "status", "score", *[n[3:] for n in names]]
    table = []
    for row in rows[:limit]:
        score = "" if row["score"] is None else f"{row['score']:.4f}"
        table.append([row["rank"], row["trial"], row["status"], score,
                      *[_short(row.get(n, MISSING)) for n in names]])
    return format_table(table, header)


def _short(value: str) -> str:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value)
    if number.is_integer() or ("e" not in value and len(value) < 8):
        return value
    return f"{number:.3g}"

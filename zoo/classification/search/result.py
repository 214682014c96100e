"""What a search came to: `SearchResult`, its file in the project directory, its report.

The chief (or the single process) writes `search_result.json` into the
project directory when the search ends, atomically. `zoo tune
--launch-workers` reads that file to print the chief's result: processes
hand each other data in files, never by scraping each other's logs.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

from zoo.files import read_json, write_json_atomic
from zoo.tuning.leaderboard import format_leaderboard

RESULT_FILE = "search_result.json"


@dataclass
class FinalSummary:
    """The retrained best model, as the report needs it (retrain.FinalModel adds its config).

    Args:
        accuracy: on `split`.
        split: "test", or "validation" when the source has no test split.
        model_uri: the logged MLflow model.
        version: its registered version, or None.
    """

    accuracy: float
    split: str
    model_uri: str
    version: int | None = None


@dataclass
class SearchResult:
    """What a search came to (None fields: not this process's job, e.g. a worker).

    Args:
        parent_run_id: the search's MLflow parent run.
        tracking_uri: the store that holds it.
        leaderboard: one row per ended trial, best first (run_tree.SearchRuns.leaderboard).
        best_hyperparameters: of the best trial.
        best_score: its objective value.
        final: the retrained best model (retrain.FinalModel, or a FinalSummary
            when read back from the file).
    """

    parent_run_id: str
    tracking_uri: str
    leaderboard: list
    best_hyperparameters: dict | None = None
    best_score: float | None = None
    final: object = None

    def to_dict(self) -> dict:
        """Plain JSON values; the retrained model's TrainConfig is left out."""
        final = None
        if self.final is not None:
            final = dataclasses.asdict(FinalSummary(
                float(self.final.accuracy), self.final.split, self.final.model_uri,
                None if self.final.version is None else int(self.final.version)))
        return {"parent_run_id": self.parent_run_id, "tracking_uri": self.tracking_uri,
                "leaderboard": self.leaderboard,
                "best_hyperparameters": self.best_hyperparameters,
                "best_score": self.best_score, "final": final}

    @classmethod
    def from_dict(cls, values: dict) -> SearchResult:
        values = dict(values)
        if values.get("final") is not None:
            values["final"] = FinalSummary(**values["final"])
        return cls(**values)


def save_result(result: SearchResult, project_dir) -> Path:
    """Write `result` to the project directory's search_result.json, atomically."""
    path = Path(project_dir) / RESULT_FILE
    write_json_atomic(path, result.to_dict())
    return path


def load_result(project_dir) -> SearchResult | None:
    """The result the chief wrote into `project_dir`, or None when there is none."""
    values = read_json(Path(project_dir) / RESULT_FILE)
    return None if values is None else SearchResult.from_dict(values)


def format_result(result: SearchResult, objective: str, register: str | None = None) -> str:
    """The report `zoo tune` prints at the end: leaderboard, best score, model, run."""
    lines = [f"\nLeaderboard ({len(result.leaderboard)} trials, best first):",
             format_leaderboard(result.leaderboard)]
    if result.best_hyperparameters:
        lines.append(f"\nBest {objective}: {result.best_score:.4f}")
    if result.final is not None:
        final = result.final
        lines.append(f"Retrained best model: {final.split} accuracy {final.accuracy:.4f}; "
                     f"{final.model_uri}")
        if final.version is not None:
            lines.append(f"Registered {register} v{final.version} as 'candidate'.")
    lines.append(f"MLflow parent run: {result.parent_run_id}  (store {result.tracking_uri})")
    lines.append(f"Open the MLflow UI: zoo ui --tracking-uri {result.tracking_uri}")
    return "\n".join(lines)

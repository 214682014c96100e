"""The chief's result file: what `zoo tune --launch-workers` prints, read back whole."""

from zoo.classification.search.result import (
    RESULT_FILE,
    SearchResult,
    format_result,
    load_result,
    save_result,
)
from zoo.classification.search.retrain import FinalModel


def test_the_result_file_gives_the_same_report(tmp_path):
    rows = [{"rank": 1, "trial": "trial-0001", "status": "COMPLETED", "score": 0.75,
             "worker": "tuner0", "run_id": "b", "hp.dropout": "0.2"},
            {"rank": 2, "trial": "trial-0000", "status": "FAILED", "score": None,
             "worker": "tuner1", "run_id": "a", "hp.dropout": "0.4"}]
    final = FinalModel(config=object(), accuracy=0.8125, split="test",
                       model_uri="models:/m-1", version=3)
    result = SearchResult("parent", "http://127.0.0.1:5000", rows, {"dropout": 0.2}, 0.75,
                          final)
    assert load_result(tmp_path) is None
    save_result(result, tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == [RESULT_FILE]  # no temporary file left

    again = load_result(tmp_path)
    report = format_result(again, "val_accuracy", "digits")
    assert report == format_result(result, "val_accuracy", "digits")
    assert "Leaderboard (2 trials, best first):" in report
    assert "trial-0001" in report and "Best val_accuracy: 0.7500" in report
    assert "test accuracy 0.8125; models:/m-1" in report
    assert "Registered digits v3 as 'candidate'." in report

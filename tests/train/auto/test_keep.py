"""What an auto run keeps: the candidate with the best held-out estimate, never the test."""

from __future__ import annotations

from pathlib import Path

import pytest

from audioclf.formats.runfolder import RunFolder
from audioclf.train.auto.candidates import SelectionError
from audioclf.train.auto.keep import keep_best
from tests.train.auto.fakes import fake_candidate


def test_selection_reads_validation_never_test(tmp_path: Path) -> None:
    # the better test score must not win: only the validation score counts
    results = {
        "logreg": fake_candidate(tmp_path, "logreg", val=0.6, test=0.95),
        "svm": fake_candidate(tmp_path, "svm", val=0.8, test=0.50),
        "random_forest": fake_candidate(tmp_path, "random_forest", val=0.8, test=0.99),
    }
    kept = keep_best(RunFolder(tmp_path), results, seconds=3.0)
    assert kept.metrics["selection"]["chosen"] == "svm"  # ties go to the earlier candidate
    assert kept.metrics["accuracy"] == 0.50
    assert kept.metrics["train_seconds"] == 3.0


def test_inner_cv_estimate_wins_over_the_validation_score(tmp_path: Path) -> None:
    noisy = fake_candidate(tmp_path, "logreg", val=0.9, test=0.6)
    noisy.metrics["cv_balanced_accuracy"] = 0.55  # one lucky validation voice
    steady = fake_candidate(tmp_path, "svm", val=0.7, test=0.8)
    steady.metrics["cv_balanced_accuracy"] = 0.75
    kept = keep_best(RunFolder(tmp_path), {"logreg": noisy, "svm": steady}, seconds=1)
    assert kept.metrics["selection"]["chosen"] == "svm"
    rows = {row["model"]: row for row in kept.metrics["selection"]["candidates"]}
    assert rows["logreg"]["score"] == 0.55 and rows["logreg"]["estimate"] == "cv_balanced_accuracy"


def test_selection_needs_a_validation_score(tmp_path: Path) -> None:
    result = fake_candidate(tmp_path, "logreg", val=0.5, test=0.5)
    del result.metrics["val_balanced_accuracy"]
    with pytest.raises(SelectionError, match="no candidate"):
        keep_best(RunFolder(tmp_path), {"logreg": result}, seconds=1.0)

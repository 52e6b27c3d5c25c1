"""The fast-default table: a task's row summarises what its folds served and passed over."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from benchmarks.fast_default import fold_dirs, served_label, task_row
from benchmarks.student import teacher_of

from benchmarks import fast_default


def _fold(served: str, accurate: str, wa: float, best_wa: float, ms: float) -> dict[str, object]:
    return {
        "served": served,
        "accurate": accurate,
        "wa": wa,
        "ua": wa - 0.1,
        "served_ms": ms,
        "best_wa": best_wa,
        "best_ms": 10 * ms,
    }


def test_a_row_counts_the_served_models_and_takes_medians_of_latency() -> None:
    folds = [
        _fold("voice_logreg", "fusion_voice_logreg", 0.8, 0.9, 10.0),
        _fold("voice_logreg", "voice_logreg", 0.9, 0.9, 30.0),
        _fold("logreg", "fusion_voice_logreg", 0.7, 0.8, 20.0),
    ]
    row = task_row("emodb", folds, 123.45, "note")
    assert row["protocol"].startswith("Emo-DB")
    assert row["WA"] == "0.800 ± 0.082"
    assert row["served"] == "voice_logreg×2, logreg×1"
    assert row["best candidate"] == "fusion_voice_logreg×2, voice_logreg×1"
    assert row["best WA"] == "0.867 ± 0.047"
    assert (row["served ms/3 s"], row["best ms/3 s"]) == (20.0, 200.0)
    assert row["train s/fold"] == 123.5


def _auto_run(root: Path, chosen: str, accurate: str) -> Path:
    (root / "candidates" / accurate).mkdir(parents=True)
    selection = {"chosen": chosen, "rule": {"accurate": accurate}}
    (root / "metrics.json").write_text(json.dumps({"model": chosen, "selection": selection}))
    return root


def test_folds_in_numeric_order_and_the_teacher_is_the_accurate_candidate(tmp_path: Path) -> None:
    for n in (10, 2, 1):
        _auto_run(tmp_path / "cv" / f"fold{n}", "logreg", "voice_logreg")
    assert [p.name for p in fold_dirs(tmp_path / "cv")] == ["fold1", "fold2", "fold10"]
    run = tmp_path / "cv" / "fold1"
    assert teacher_of(run) == run / "candidates" / "voice_logreg"
    assert served_label("emodb", run) == "emodb: logreg"


def test_given_runs_are_task_folder_pairs(tmp_path: Path) -> None:
    run = tmp_path / "emodb-run"
    run.mkdir()
    (run / "model.json").write_text("{}")
    assert fast_default.given_runs([f"emodb={run}"]) == {"emodb": run}
    for bad in (f"nosuchtask={run}", "emodb", f"emodb={tmp_path / 'missing'}"):
        with pytest.raises(SystemExit, match="TASK=RUN"):
            fast_default.given_runs([bad])

"""Scoring a trained run on another corpus through a label map."""

from __future__ import annotations

import json
from pathlib import Path

from audioclf.evaluate.evaluate_run import evaluate_run
from audioclf.train.config import TrainConfig
from audioclf.train.run import train_run
from tests.corpus_factory import make_corpus


def test_cross_corpus_with_label_map_reports_unknown_classes(tmp_path: Path) -> None:
    train_manifest = make_corpus(tmp_path / "a", classes=("low", "high"), speakers=4)
    run = train_run(
        TrainConfig.build({"data": str(train_manifest), "model": "logreg"}),
        tmp_path / "run",
        progress=False,
    ).run_dir
    # the other corpus calls the classes differently and has one the model never saw
    other = make_corpus(
        tmp_path / "b", classes=("low", "high", "mid"), speakers=2, seed=3, corpus="other"
    )
    text = other.read_text().replace('"label": "low"', '"label": "LOW"')
    other.write_text(text)
    label_map = tmp_path / "map.yaml"
    label_map.write_text("LOW: low\nhigh: high\n")
    metrics = evaluate_run(run, other, tmp_path / "eval", label_map=label_map, progress=False)
    assert metrics["n_scored"] == 12
    assert metrics["unknown_labels"]["mid"]["n"] == 6
    assert sum(metrics["unknown_labels"]["mid"]["predicted"].values()) == 6
    assert metrics["accuracy"] >= 0.75
    saved = json.loads((tmp_path / "eval" / "metrics.json").read_text())
    assert saved["label_map"] == {"LOW": "low", "high": "high"}
    lines = (tmp_path / "eval" / "predictions.csv").read_text().splitlines()
    assert len(lines) == 1 + 18
    assert (tmp_path / "eval" / "report.html").is_file()

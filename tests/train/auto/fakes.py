"""Finished candidates without training: a card and metrics, for judging and keeping."""

from __future__ import annotations

from pathlib import Path

from audioclf.formats.atomic import write_json
from audioclf.formats.runfolder import ModelCard, RunFolder
from audioclf.train.single import RunResult


def fake_candidate(
    tmp_path: Path, name: str, val: float, test: float, family: str = "classical"
) -> RunResult:
    folder = tmp_path / "candidates" / name
    run = RunFolder(folder)
    folder.mkdir(parents=True)
    card = ModelCard(name, family, "pooled", 16_000, 8000, 0.5, ["a", "b"], 10)
    run.write_card(card)
    metrics = {"model": name, "accuracy": test, "val_balanced_accuracy": val, "n": 4}
    metrics |= {"labels": ["a", "b"], "confusion": [[1, 1], [1, 1]], "train_seconds": 1.0}
    write_json(run.metrics, metrics)
    return RunResult(folder, metrics, card)

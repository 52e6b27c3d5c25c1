"""The run folder's card: versioned, and a clear error for anything it cannot read."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import pytest

from audioclf.formats.runfolder import CARD_VERSION, ModelCard, RunFolder, RunFolderError


def _card() -> ModelCard:
    return ModelCard("logreg", "classical", "pooled", 16_000, 80, 0.5, ["a", "b"], 10)


def test_a_card_round_trips_with_its_version(tmp_path: Path) -> None:
    run = RunFolder(tmp_path)
    run.write_card(_card())
    assert json.loads(run.card.read_text())["version"] == CARD_VERSION
    assert run.read_card() == _card()
    assert json.loads(run.labels.read_text()) == ["a", "b"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"version": CARD_VERSION + 1}, "newer audioclf"),
        ({"colour": "blue"}, "unknown card fields"),
        ({"labels": None}, "missing"),
    ],
)
def test_cards_it_cannot_read_are_named(tmp_path: Path, change: dict, message: str) -> None:
    data = asdict(_card()) | change
    data = {k: v for k, v in data.items() if v is not None}
    (tmp_path / "model.json").write_text(json.dumps(data))
    with pytest.raises(RunFolderError, match=message):
        RunFolder(tmp_path).read_card()


def test_a_folder_without_a_card_says_how_to_finish_it(tmp_path: Path) -> None:
    with pytest.raises(RunFolderError, match="--resume"):
        RunFolder(tmp_path).read_card()

"""audioclf.recipes.esc50: meta/esc50.csv rows, folds, source-recording groups, esc10."""

from __future__ import annotations

from pathlib import Path

import pytest

from audioclf.recipes import RecipeError, prepare
from tests.recipes.fake import by_id, skipped_names, tree

CSV = """filename,fold,target,category,esc10,src_file,take
1-100032-A-0.wav,1,0,dog,True,100032,A
1-100032-B-0.wav,1,0,dog,True,100032,B
2-100038-A-14.wav,2,14,chirping_birds,False,100038,A
5-9032-A-0.wav,5,0,dog,True,9032,A
3-1000-A-1.wav,3,1,rooster,True,1000,A
4-404-A-2.wav,4,2,pig,False,404,A
"""


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    root = tree(
        tmp_path,
        ["audio/1-100032-A-0.wav", "audio/1-100032-B-0.wav", "audio/2-100038-A-14.wav",
         "audio/5-9032-A-0.wav", "audio/9-999-A-9.wav"],
        corrupt=("audio/3-1000-A-1.wav",),
    )  # fmt: skip
    (root / "meta").mkdir()
    (root / "meta" / "esc50.csv").write_text(CSV, encoding="utf-8")
    return root


def test_esc50(corpus: Path) -> None:
    result = prepare("esc50", corpus, progress=False)
    clips = by_id(result)
    assert len(clips) == 4
    dog = clips["esc50/audio/1-100032-B-0"]
    assert (dog.label, dog.speaker, dog.meta) == (
        "dog",
        "esc50/100032",
        {"fold": 1, "target": 0, "esc10": True, "take": "B"},
    )
    assert clips["esc50/audio/1-100032-A-0"].speaker == dog.speaker
    assert clips["esc50/audio/2-100038-A-14"].meta["fold"] == 2
    assert skipped_names(result) == ["3-1000-A-1.wav", "4-404-A-2.wav", "9-999-A-9.wav"]
    reasons = {Path(s.path).name: s.reason for s in result.skipped}
    assert "not found" in reasons["4-404-A-2.wav"]
    assert "not listed" in reasons["9-999-A-9.wav"]


def test_esc10_option(corpus: Path) -> None:
    result = prepare("esc50", corpus, progress=False, esc10=True)
    assert result.manifest.labels == ["dog"]
    assert len(result.manifest) == 3


def test_missing_meta_csv(tmp_path: Path) -> None:
    tree(tmp_path, ["audio/1-100032-A-0.wav"])
    with pytest.raises(RecipeError, match=r"no meta/esc50\.csv"):
        prepare("esc50", tmp_path)
    (tmp_path / "meta").mkdir()
    (tmp_path / "meta" / "esc50.csv").write_text("filename,category\nx.wav,dog\n")
    with pytest.raises(RecipeError, match=r"missing column.*fold"):
        prepare("esc50", tmp_path)

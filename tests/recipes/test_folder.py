"""audioclf.recipes.folder: class folders at any depth, speaker_pattern, lowercase."""

from __future__ import annotations

from pathlib import Path

import pytest

from audioclf.recipes import RecipeError, prepare
from tests.recipes.fake import by_id, skipped_names, tree


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    return tree(
        tmp_path / "Audio Emotions",
        ["Angry/03-01-05-01-01-01-01.wav", "Angry/tess/OAF_back_angry.flac",
         "Sad/deep/er/spk7_take1.wav", "loose.wav"],
        corrupt=("Sad/spk8_take2.wav",),
    )  # fmt: skip


def test_folder_defaults(corpus: Path) -> None:
    result = prepare("folder", corpus, progress=False)
    clips = by_id(result)
    assert sorted(clips) == [
        "Audio Emotions/Angry/03-01-05-01-01-01-01",
        "Audio Emotions/Angry/tess/OAF_back_angry",
        "Audio Emotions/Sad/deep/er/spk7_take1",
    ]
    assert result.manifest.labels == ["angry", "sad"]
    assert {c.speaker for c in result.manifest} == {None}
    assert {c.corpus for c in result.manifest} == {"Audio Emotions"}
    assert skipped_names(result) == ["loose.wav", "spk8_take2.wav"]
    assert "class folder" in next(s.reason for s in result.skipped if "loose" in s.path)


def test_folder_options(corpus: Path) -> None:
    result = prepare(
        "folder",
        corpus,
        progress=False,
        speaker_pattern=r"^(?P<speaker>spk\d+)_",
        lowercase=False,
        corpus="emo",
    )
    clips = by_id(result)
    assert result.manifest.labels == ["Angry", "Sad"]
    assert clips["emo/Sad/deep/er/spk7_take1"].speaker == "spk7"
    assert clips["emo/Angry/tess/OAF_back_angry"].speaker is None
    with pytest.raises(RecipeError, match=r"speaker_pattern.*\(\?P<speaker>"):
        prepare("folder", corpus, speaker_pattern=r"^(spk\d+)")

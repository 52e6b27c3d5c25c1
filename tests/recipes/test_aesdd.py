"""audioclf.recipes.aesdd: emotion folders, 'a01 (1).wav' names, speaker in parentheses."""

from __future__ import annotations

from pathlib import Path

from audioclf.recipes import prepare
from tests.recipes.fake import by_id, skipped_names, tree


def test_aesdd(tmp_path: Path) -> None:
    result = prepare(
        "aesdd",
        tree(
            tmp_path,
            [
                "anger/a01 (1).wav",
                "disgust/d02 (2).flac",
                "fear/f03 (3).wav",
                "happiness/h04 (4).wav",
                "sadness/s05 (5).wav",
                "sadness/s05 (3)b.wav",
            ],
            corrupt=("anger/a02 (1).wav", "anger/readme.wav"),
        ),
        progress=False,
    )
    clips = by_id(result)
    first = clips["aesdd/anger/a01 (1)"]
    assert (first.label, first.speaker, first.gender, first.meta) == (
        "angry",
        "aesdd/1",
        None,
        {"utterance": 1},
    )
    assert clips["aesdd/sadness/s05 (3)b"].meta == {"utterance": 5, "take": "b"}
    assert result.manifest.labels == ["angry", "disgust", "fearful", "happy", "sad"]
    assert len(result.manifest.speakers) == 5
    assert skipped_names(result) == ["a02 (1).wav", "readme.wav"]

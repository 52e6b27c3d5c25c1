"""audioclf.recipes.ravdess: the 7-field names, vocal channel option, genders, meta."""

from __future__ import annotations

from pathlib import Path

import pytest

from audioclf.recipes import RecipeError, prepare
from tests.recipes.fake import by_id, skipped_names, tree


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    return tree(
        tmp_path,
        [
            "Actor_01/03-01-05-01-02-01-01.wav",
            "Actor_02/03-01-08-02-01-02-02.flac",
            "Actor_02/03-02-03-01-01-01-02.WAV",
            "Actor_12/03-01-01-01-01-01-12.wav",
            "Actor_12/readme-take.wav",
        ],
        corrupt=("Actor_01/03-01-04-01-01-01-01.wav",),
    )


def test_speech_by_default(corpus: Path) -> None:
    result = prepare("ravdess", corpus, progress=False)
    clips = by_id(result)
    assert sorted(clips) == [
        "ravdess/Actor_01/03-01-05-01-02-01-01",
        "ravdess/Actor_02/03-01-08-02-01-02-02",
        "ravdess/Actor_12/03-01-01-01-01-01-12",
    ]
    angry = clips["ravdess/Actor_01/03-01-05-01-02-01-01"]
    assert (angry.label, angry.speaker, angry.gender) == ("angry", "ravdess/01", "male")
    assert angry.meta == {
        "intensity": "normal",
        "statement": "dogs",
        "repetition": 1,
        "vocal_channel": "speech",
        "actor": 1,
    }
    surprised = clips["ravdess/Actor_02/03-01-08-02-01-02-02"]
    assert (surprised.label, surprised.gender) == ("surprised", "female")
    assert surprised.meta["intensity"] == "strong"
    assert surprised.meta["repetition"] == 2
    assert clips["ravdess/Actor_12/03-01-01-01-01-01-12"].label == "neutral"
    assert skipped_names(result) == ["03-01-04-01-01-01-01.wav", "readme-take.wav"]
    reasons = " ".join(s.reason for s in result.skipped)
    assert "naming scheme" in reasons
    assert "not a recognised audio format" in reasons


def test_vocal_channel_option(corpus: Path) -> None:
    song = prepare("ravdess", corpus, progress=False, vocal_channel="song").manifest
    assert [(c.label, c.meta["vocal_channel"]) for c in song] == [("happy", "song")]
    everything = prepare("ravdess", corpus, progress=False, vocal_channel="all").manifest
    assert len(everything) == 4
    assert len(everything.speakers) == 3
    with pytest.raises(RecipeError, match=r"vocal_channel='hum'.*speech, song, all"):
        prepare("ravdess", corpus, vocal_channel="hum")

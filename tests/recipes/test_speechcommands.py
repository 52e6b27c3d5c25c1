"""audioclf.recipes.speechcommands: words, _unknown_, _silence_, split lists, options."""

from __future__ import annotations

from pathlib import Path

import pytest

from audioclf.recipes import RecipeError, prepare
from tests.recipes.fake import by_id, skipped_names, tree

FILES = [
    "yes/0a7c2a8d_nohash_0.wav",
    "no/0b40aa8e_nohash_1.flac",
    "backward/0c540988_nohash_0.wav",
    "_unknown_/wow_1a2b3c4d_nohash_2.wav",
    "_silence_/1024.flac",
    "_background_noise_/white_noise.wav",
]


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    return tree(tmp_path, FILES, corrupt=("go/0d0d0d0d_nohash_0.wav", "up/readme.wav"))


def test_defaults(corpus: Path) -> None:
    result = prepare("speechcommands", corpus, progress=False)
    clips = by_id(result)
    assert sorted(clips) == [
        "speechcommands/_silence_/1024",
        "speechcommands/_unknown_/wow_1a2b3c4d_nohash_2",
        "speechcommands/backward/0c540988_nohash_0",
        "speechcommands/no/0b40aa8e_nohash_1",
        "speechcommands/yes/0a7c2a8d_nohash_0",
    ]
    yes = clips["speechcommands/yes/0a7c2a8d_nohash_0"]
    assert (yes.label, yes.speaker, yes.meta) == (
        "yes",
        "speechcommands/0a7c2a8d",
        {"word": "yes", "take": 0},
    )
    backward = clips["speechcommands/backward/0c540988_nohash_0"]
    assert (backward.label, backward.meta["word"]) == ("_unknown_", "backward")
    wow = clips["speechcommands/_unknown_/wow_1a2b3c4d_nohash_2"]
    assert (wow.label, wow.speaker, wow.meta) == (
        "_unknown_",
        "speechcommands/1a2b3c4d",
        {"word": "wow", "take": 2},
    )
    silence = clips["speechcommands/_silence_/1024"]
    assert (silence.label, silence.speaker, silence.meta) == ("_silence_", None, {})
    assert skipped_names(result) == ["0d0d0d0d_nohash_0.wav", "readme.wav"]


def test_words_and_unknown_options(corpus: Path) -> None:
    chosen = prepare("speechcommands", corpus, progress=False, words=["yes", "wow"])
    labels = {c.id.split("/", 1)[1]: c.label for c in chosen.manifest}
    assert labels["_unknown_/wow_1a2b3c4d_nohash_2"] == "wow"
    assert labels["no/0b40aa8e_nohash_1"] == "_unknown_"
    strict = prepare("speechcommands", corpus, progress=False, words="yes,no", unknown="false")
    assert strict.manifest.labels == ["_silence_", "no", "yes"]
    with pytest.raises(RecipeError, match="option unknown='sometimes'"):
        prepare("speechcommands", corpus, unknown="sometimes")


def test_split_lists(corpus: Path) -> None:
    (corpus / "validation_list.txt").write_text("no/0b40aa8e_nohash_1.wav\n", encoding="utf-8")
    (corpus / "testing_list.txt").write_text(
        "yes/0a7c2a8d_nohash_0.wav\nbackward/0c540988_nohash_0.wav\n", encoding="utf-8"
    )
    clips = by_id(prepare("speechcommands", corpus, progress=False))
    splits = {cid.split("/", 1)[1]: c.meta["split"] for cid, c in clips.items()}
    assert splits == {
        "_silence_/1024": "train",
        "_unknown_/wow_1a2b3c4d_nohash_2": "train",
        "backward/0c540988_nohash_0": "test",
        "no/0b40aa8e_nohash_1": "val",
        "yes/0a7c2a8d_nohash_0": "test",
    }

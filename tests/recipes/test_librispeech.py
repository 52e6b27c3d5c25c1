"""audioclf.recipes.librispeech: SPEAKERS.TXT, subsets, both layouts, label option."""

from __future__ import annotations

from pathlib import Path

import pytest

from audioclf.recipes import RecipeError, prepare
from tests.recipes.fake import by_id, skipped_names, tree

SPEAKERS = """; comment line
;ID  |SEX| SUBSET           |MINUTES| NAME
19   | F | train-clean-100  | 25.19 | Kara Shallenberg
1688 | M | test-other       | 10.00 | Some | Reader
"""
FILES = [
    "LibriSpeech/train-clean-100/19/198/19-198-0001.flac",
    "LibriSpeech/train-clean-100/19/198/19-198-0002.wav",
    "LibriSpeech/librispeech_test-other/1688/1688-142285-0000.flac",
    "LibriSpeech/extra/777/777-1-0003.flac",
]


@pytest.mark.parametrize("where", ["LibriSpeech", ".", "LibriSpeech/train-clean-100"])
def test_librispeech(tmp_path: Path, where: str) -> None:
    tree(tmp_path, FILES, corrupt=("LibriSpeech/train-clean-100/19/198/19-198-0003.flac",))
    (tmp_path / where / "SPEAKERS.TXT").write_text(SPEAKERS, encoding="utf-8")
    source = tmp_path / "LibriSpeech"
    result = prepare("librispeech", source, progress=False)
    clips = by_id(result)
    assert len(clips) == 4
    first = clips["librispeech/train-clean-100/19/198/19-198-0001"]
    assert (first.label, first.speaker, first.gender, first.meta) == (
        "19",
        "librispeech/19",
        "female",
        {"subset": "train-clean-100", "chapter": 198, "utterance": 1},
    )
    other = clips["librispeech/librispeech_test-other/1688/1688-142285-0000"]
    assert (other.gender, other.meta["subset"]) == ("male", "test-other")
    unknown = clips["librispeech/extra/777/777-1-0003"]
    assert (unknown.gender, unknown.meta["subset"]) == (None, None)
    assert skipped_names(result) == ["19-198-0003.flac"]

    by_gender = prepare("librispeech", source, progress=False, label="gender")
    assert by_gender.manifest.labels == ["female", "male"]
    assert len(by_gender.manifest) == 3
    assert "no gender" in " ".join(s.reason for s in by_gender.skipped)


def test_label_option_errors(tmp_path: Path) -> None:
    tree(tmp_path, ["19/19-198-0001.flac"])
    with pytest.raises(RecipeError, match="label='age' must be one of: speaker, gender"):
        prepare("librispeech", tmp_path, label="age")
    with pytest.raises(RecipeError, match=r"label=gender needs SPEAKERS\.TXT"):
        prepare("librispeech", tmp_path, label="gender")
    assert prepare("librispeech", tmp_path, progress=False).manifest[0].gender is None

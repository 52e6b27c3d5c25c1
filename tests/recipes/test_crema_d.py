"""audioclf.recipes.crema_d: emotion and level codes, genders from VideoDemographics.csv."""

from __future__ import annotations

from pathlib import Path

import pytest

from audioclf.recipes import prepare
from tests.recipes.fake import by_id, skipped_names, tree

NAMES = [
    "AudioWAV/1001_DFA_ANG_XX.wav",
    "AudioWAV/1001_IEO_HAP_HI.flac",
    "AudioWAV/1002_TIE_SAD_LO.wav",
    "AudioWAV/1003_MTI_NEU_MD.wav",
    "AudioWAV/1003_ITS_FEA_XX.wav",
    "AudioWAV/1003_IWL_DIS_XX.wav",
    "AudioWAV/1003_IWL_BOR_XX.wav",
]
DEMOGRAPHICS = "ActorID,Age,Sex,Race,Ethnicity\n1001,51,Male,Caucasian,Not Hispanic\n" \
    "1002,21,Female,Caucasian,Not Hispanic\n"  # fmt: skip


@pytest.mark.parametrize("where", ["", "..", "meta"])
def test_crema_d(tmp_path: Path, where: str) -> None:
    root = tree(tmp_path / "crema", NAMES, corrupt=("AudioWAV/1076_MTI_SAD_XX.wav",))
    csv_dir = (root / where).resolve()
    csv_dir.mkdir(exist_ok=True)
    (csv_dir / "VideoDemographics.csv").write_text(DEMOGRAPHICS, encoding="utf-8")
    result = prepare("crema-d", root, progress=False)
    clips = by_id(result)
    assert len(clips) == 6
    angry = clips["crema-d/AudioWAV/1001_DFA_ANG_XX"]
    assert (angry.label, angry.speaker, angry.gender) == ("angry", "crema-d/1001", "male")
    assert angry.meta == {"sentence": "DFA", "level": "unspecified", "age": 51}
    assert clips["crema-d/AudioWAV/1001_IEO_HAP_HI"].meta["level"] == "high"
    sad = clips["crema-d/AudioWAV/1002_TIE_SAD_LO"]
    assert (sad.label, sad.gender, sad.meta["level"]) == ("sad", "female", "low")
    neutral = clips["crema-d/AudioWAV/1003_MTI_NEU_MD"]
    assert (neutral.label, neutral.gender, neutral.meta) == (
        "neutral",
        None,
        {"sentence": "MTI", "level": "medium"},
    )
    assert result.manifest.labels == ["angry", "disgust", "fearful", "happy", "neutral", "sad"]
    assert skipped_names(result) == ["1003_IWL_BOR_XX.wav", "1076_MTI_SAD_XX.wav"]


def test_without_demographics_gender_is_empty(tmp_path: Path) -> None:
    tree(tmp_path, NAMES[:2])
    assert {c.gender for c in prepare("crema-d", tmp_path, progress=False).manifest} == {None}

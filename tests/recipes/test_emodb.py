"""audioclf.recipes.emodb: letters to emotions, speaker genders, flat or wav/ layouts."""

from __future__ import annotations

from pathlib import Path

import pytest

from audioclf.recipes import prepare
from tests.recipes.fake import by_id, skipped_names, tree

NAMES = ["03a01Wa", "08a02Lb", "10b03Ec", "16b10Ad", "11a04Fa", "09a05Tb", "13a07Nc"]


@pytest.mark.parametrize("layout", ["", "wav/"])
def test_emodb(tmp_path: Path, layout: str) -> None:
    names = [f"{layout}{n}{'.flac' if i % 2 else '.wav'}" for i, n in enumerate(NAMES)]
    tree(tmp_path, names, corrupt=(f"{layout}14a01Wa.wav", f"{layout}notes.wav"))
    result = prepare("emodb", tmp_path, progress=False)
    clips = by_id(result)
    assert len(clips) == 7
    labels = {cid.rsplit("/", 1)[1]: c.label for cid, c in clips.items()}
    assert labels == {
        "03a01Wa": "angry",
        "08a02Lb": "bored",
        "10b03Ec": "disgust",
        "16b10Ad": "fearful",
        "11a04Fa": "happy",
        "09a05Tb": "sad",
        "13a07Nc": "neutral",
    }
    first = clips[f"emodb/{layout}03a01Wa"]
    assert (first.speaker, first.gender, first.meta) == (
        "emodb/03",
        "male",
        {"text": "a01", "version": "a"},
    )
    assert clips[f"emodb/{layout}08a02Lb"].gender == "female"
    assert clips[f"emodb/{layout}13a07Nc"].gender == "female"
    assert clips[f"emodb/{layout}10b03Ec"].gender == "male"
    assert skipped_names(result) == ["14a01Wa.wav", "notes.wav"]

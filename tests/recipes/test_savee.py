"""audioclf.recipes.savee: flat ALL/DC_a01 and per-speaker DC/a01 layouts, all male."""

from __future__ import annotations

from pathlib import Path

import pytest

from audioclf.recipes import prepare
from tests.recipes.fake import skipped_names, tree

CODES = {"a01": "angry", "d02": "disgust", "f03": "fearful", "h04": "happy",
         "n05": "neutral", "sa06": "sad", "su07": "surprised"}  # fmt: skip


@pytest.mark.parametrize("flat", [True, False])
def test_savee(tmp_path: Path, flat: bool) -> None:
    speakers = ["DC", "JE", "JK", "KL", "DC", "JE", "KL"]
    names = [
        f"ALL/{spk}_{code}.wav" if flat else f"{spk}/{code}.flac"
        for spk, code in zip(speakers, CODES, strict=True)
    ]
    bad = "ALL/JK_a02.wav" if flat else "JK/a02.wav"
    tree(tmp_path, names, corrupt=(bad, "ALL/xx_q01.wav" if flat else "XX/a01.wav"))
    result = prepare("savee", tmp_path, progress=False)
    rows = {c.id: (c.label, c.speaker, c.gender, c.meta["sentence"]) for c in result.manifest}
    expected = {}
    for spk, (code, label) in zip(speakers, CODES.items(), strict=True):
        cid = f"savee/ALL/{spk}_{code}" if flat else f"savee/{spk}/{code}"
        expected[cid] = (label, f"savee/{spk}", "male", int(code.lstrip("adfhnsu")))
    assert rows == expected
    assert result.manifest.speakers == ["savee/DC", "savee/JE", "savee/JK", "savee/KL"]
    assert skipped_names(result) == (
        ["JK_a02.wav", "xx_q01.wav"] if flat else ["a01.wav", "a02.wav"]
    )

"""audioclf.recipes.fsdd: digit_speaker_index names, flat or recordings/."""

from __future__ import annotations

from pathlib import Path

import pytest

from audioclf.recipes import prepare
from tests.recipes.fake import by_id, skipped_names, tree


@pytest.mark.parametrize("layout", ["", "recordings/"])
def test_fsdd(tmp_path: Path, layout: str) -> None:
    tree(
        tmp_path,
        [f"{layout}7_jackson_32.wav", f"{layout}0_theo_0.flac", f"{layout}9_yweweler_49.WAV"],
        corrupt=(f"{layout}3_lucas_1.wav", f"{layout}seven.wav"),
    )
    result = prepare("fsdd", tmp_path, progress=False)
    clips = by_id(result)
    seven = clips[f"fsdd/{layout}7_jackson_32"]
    assert (seven.label, seven.speaker, seven.gender, seven.meta) == (
        "7",
        "fsdd/jackson",
        None,
        {"index": 32},
    )
    assert seven.sample_rate == 8000
    assert result.manifest.labels == ["0", "7", "9"]
    assert result.manifest.speakers == ["fsdd/jackson", "fsdd/theo", "fsdd/yweweler"]
    assert skipped_names(result) == ["3_lucas_1.wav", "seven.wav"]

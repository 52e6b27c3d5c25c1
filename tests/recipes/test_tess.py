"""audioclf.recipes.tess: OAF/YAF speakers, both female, pleasant surprise → surprised."""

from __future__ import annotations

from pathlib import Path

from audioclf.recipes import prepare
from tests.recipes.fake import by_id, skipped_names, tree


def test_tess(tmp_path: Path) -> None:
    root = tree(
        tmp_path / "TESS Toronto emotional speech set data",
        [
            "OAF_angry/OAF_back_angry.wav",
            "OAF_Fear/OAF_bite_fear.flac",
            "YAF_pleasant_surprise/YAF_bar_ps.wav",
            "YAF_pleasant_surprised/YAF_thumb_pleasant_surprised.wav",
            "YAF_neutral/YAF_bean_neutral.wav",
            "OAF_disgust/OAF_keen_disgust.wav",
        ],
        corrupt=("OAF_sad/OAF_deep_sad.wav", "OAF_sad/notes.wav"),
    )
    result = prepare("tess", root.parent, progress=False)
    clips = by_id(result)
    prefix = "tess/TESS Toronto emotional speech set data/"
    back = clips[prefix + "OAF_angry/OAF_back_angry"]
    assert (back.label, back.speaker, back.gender, back.meta) == (
        "angry",
        "tess/OAF",
        "female",
        {"word": "back"},
    )
    assert clips[prefix + "OAF_Fear/OAF_bite_fear"].label == "fearful"
    assert clips[prefix + "YAF_pleasant_surprise/YAF_bar_ps"].label == "surprised"
    thumb = clips[prefix + "YAF_pleasant_surprised/YAF_thumb_pleasant_surprised"]
    assert (thumb.label, thumb.meta["word"]) == ("surprised", "thumb")
    assert result.manifest.speakers == ["tess/OAF", "tess/YAF"]
    assert {c.gender for c in result.manifest} == {"female"}
    assert result.manifest.labels == ["angry", "disgust", "fearful", "neutral", "surprised"]
    assert skipped_names(result) == ["OAF_deep_sad.wav", "notes.wav"]

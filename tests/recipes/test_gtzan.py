"""audioclf.recipes.gtzan: genre folders, track numbers, the corrupt jazz.00054 skipped."""

from __future__ import annotations

from pathlib import Path

import pytest

from audioclf.recipes import prepare
from tests.recipes.fake import by_id, skipped_names, tree


@pytest.mark.parametrize("top", ["genres", "genres_original"])
def test_gtzan(tmp_path: Path, top: str) -> None:
    tree(
        tmp_path,
        [f"{top}/blues/blues.00000.wav", f"{top}/blues/blues.00001.flac",
         f"{top}/jazz/jazz.00053.wav", f"{top}/rock/rock.00099.au", "stray.00001.wav"],
        corrupt=(f"{top}/jazz/jazz.00054.wav",),
    )  # fmt: skip
    result = prepare("gtzan", tmp_path, progress=False)
    clips = by_id(result)
    assert sorted(clips) == [
        f"gtzan/{top}/blues/blues.00000",
        f"gtzan/{top}/blues/blues.00001",
        f"gtzan/{top}/jazz/jazz.00053",
        f"gtzan/{top}/rock/rock.00099",
    ]
    track = clips[f"gtzan/{top}/rock/rock.00099"]
    assert (track.label, track.speaker, track.meta) == ("rock", None, {"track": 99})
    assert skipped_names(result) == ["jazz.00054.wav", "stray.00001.wav"]
    jazz = next(s for s in result.skipped if s.path.endswith("jazz.00054.wav"))
    assert "not a recognised audio format" in jazz.reason

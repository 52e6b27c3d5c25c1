"""audioclf.recipes.csv_list: path,label[,speaker][,gender][,extra] rows."""

from __future__ import annotations

from pathlib import Path

import pytest

from audioclf.recipes import RecipeError, prepare
from tests.recipes.fake import by_id, skipped_names, tree, write_tone


def test_csv(tmp_path: Path) -> None:
    tree(tmp_path / "data", ["clips/a.wav", "clips/b.FLAC", "clips/c.wav"],
         corrupt=("clips/bad.wav",))  # fmt: skip
    outside = write_tone(tmp_path / "elsewhere" / "d.wav")
    table = tmp_path / "data" / "list.csv"
    table.write_text(
        "path,label,speaker,gender,fold,note,code\n"
        "clips/a.wav,happy,s1,F,1,loud,007\n"
        "clips/b.FLAC,sad,s2,male,2,,2.5\n"
        "clips/c.wav,,s3,,3,,\n"
        "clips/bad.wav,sad,s3,,3,,\n"
        "clips/missing.wav,sad,,,3,,\n"
        f"{outside},happy,,,4,,\n",
        encoding="utf-8",
    )
    result = prepare("csv", table, progress=False)
    clips = by_id(result)
    a = clips["list/clips/a"]
    assert (a.label, a.speaker, a.gender, a.meta) == (
        "happy",
        "s1",
        "female",
        {"fold": 1, "note": "loud", "code": "007"},
    )
    b = clips["list/clips/b"]
    assert (b.gender, b.meta) == ("male", {"fold": 2, "code": 2.5})
    d = next(c for c in result.manifest if c.id.endswith("elsewhere/d"))
    assert (d.speaker, d.gender, Path(d.path)) == (None, None, outside.resolve())
    assert len(result.manifest) == 3
    assert skipped_names(result) == ["bad.wav", "c.wav", "missing.wav"]


def test_csv_errors(tmp_path: Path) -> None:
    table = tmp_path / "t.csv"
    table.write_text("file,label\nx.wav,a\n", encoding="utf-8")
    with pytest.raises(RecipeError, match=r"missing required column.*path"):
        prepare("csv", table)
    table.write_text("path,label,gender\nx.wav,a,other\n", encoding="utf-8")
    write_tone(tmp_path / "x.wav")
    with pytest.raises(RecipeError, match=r"t\.csv:2: gender 'other'"):
        prepare("csv", table, progress=False)
    with pytest.raises(RecipeError, match="no such file"):
        prepare("csv", tmp_path / "nope.csv")
    with pytest.raises(RecipeError, match="is a folder"):
        prepare("csv", tmp_path)

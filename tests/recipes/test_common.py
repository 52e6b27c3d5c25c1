"""audioclf.recipes._common: listing, option parsing, ids, probing and skipping."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from audioclf.recipes._common import (
    FoundFile,
    RecipeError,
    as_bool,
    as_choice,
    as_list,
    as_regex,
    audio_files,
    build_manifest,
    clip_id,
    prepare_from_names,
)
from tests.recipes.fake import tree, write_corrupt, write_tone


def test_audio_files_by_extension_any_case_hidden_left_out(tmp_path: Path) -> None:
    tree(tmp_path, ["a.wav", "b/c.FLAC", "d.Wav"])
    (tmp_path / "notes.txt").write_text("x")
    write_corrupt(tmp_path / "._a.wav")
    write_corrupt(tmp_path / "__MACOSX" / "a.wav")
    names = [p.relative_to(tmp_path).as_posix() for p in audio_files(tmp_path)]
    assert names == ["a.wav", "b/c.FLAC", "d.Wav"]
    assert [p.name for p in audio_files(tmp_path, recursive=False)] == ["a.wav", "d.Wav"]


def test_option_parsers() -> None:
    assert as_bool("x", "False") is False
    assert as_bool("x", "yes") is True
    assert as_bool("x", True) is True
    with pytest.raises(RecipeError, match="option x='maybe' must be true or false"):
        as_bool("x", "maybe")
    assert as_choice("c", "SONG", ("speech", "song")) == "song"
    with pytest.raises(RecipeError, match="must be one of: speech, song"):
        as_choice("c", "hum", ("speech", "song"))
    assert as_list("w", "yes, no") == ["yes", "no"]
    assert as_list("w", ["up", 1]) == ["up", "1"]
    with pytest.raises(RecipeError, match="at least one"):
        as_list("w", [])
    with pytest.raises(RecipeError, match="must be a list"):
        as_list("w", 3)
    assert as_regex("p", "^(?P<speaker>\\d+)", "speaker").pattern.startswith("^")
    with pytest.raises(RecipeError, match="named group"):
        as_regex("p", "^(\\d+)", "speaker")
    with pytest.raises(RecipeError, match="not a valid regex"):
        as_regex("p", "(", "speaker")


def test_clip_id_is_posix_relative_without_suffix(tmp_path: Path) -> None:
    assert clip_id("c", tmp_path / "a" / "b.wav", tmp_path) == "c/a/b"
    assert clip_id("c", Path("/elsewhere/x.flac"), tmp_path) == "c/elsewhere/x"


def test_build_manifest_probes_sorts_and_skips(tmp_path: Path) -> None:
    good = write_tone(tmp_path / "z.flac", seconds=0.25, sr=16_000, channels=2)
    other = write_tone(tmp_path / "a.wav")
    bad = write_corrupt(tmp_path / "m.wav")
    twin = write_tone(tmp_path / "a.flac")
    result = build_manifest(
        [FoundFile(p, "x", meta={"k": 1}) for p in (good, bad, other, twin)],
        tmp_path,
        "c",
        progress=False,
    )
    clips = list(result.manifest)
    assert [c.id for c in clips] == ["c/a", "c/z"]
    z = clips[1]
    assert (z.duration, z.sample_rate, z.channels, z.corpus) == (0.25, 16_000, 2, "c")
    assert z.meta == {"k": 1}
    assert Path(z.path).is_absolute()
    reasons = {Path(s.path).name: s.reason for s in result.skipped}
    assert set(reasons) == {"m.wav", "a.wav"} or set(reasons) == {"m.wav", "a.flac"}
    assert "not a recognised audio format" in reasons["m.wav"]
    assert any("same clip id" in r for r in reasons.values())


def test_prepare_from_names_reads_names_and_skips_off_scheme(tmp_path: Path) -> None:
    tree(tmp_path, ["a_1.wav", "sub/b_2.flac", "c_0.wav", "skip.wav", "d_3.au"])
    write_corrupt(tmp_path / "e_4.wav")

    def make(path: Path, match: re.Match[str]) -> FoundFile | None:
        if match[2] == "0":  # matches the pattern, but a field is off the scheme
            return None
        return FoundFile(path, match[1], meta={"n": int(match[2])})

    result = prepare_from_names(
        tmp_path, "c", re.compile(r"^([a-z])_(\d)$"), "x_N.wav", make, progress=False
    )
    assert [(c.id, c.label, c.meta) for c in result.manifest] == [
        ("c/a_1", "a", {"n": 1}),
        ("c/sub/b_2", "b", {"n": 2}),
    ]
    reasons = {Path(s.path).name: s.reason for s in result.skipped}
    assert set(reasons) == {"c_0.wav", "e_4.wav", "skip.wav"}
    assert reasons["c_0.wav"] == reasons["skip.wav"]
    assert reasons["skip.wav"] == "the file name does not follow the naming scheme x_N.wav"
    assert "not a recognised audio format" in reasons["e_4.wav"]
    with_au = prepare_from_names(
        tmp_path,
        "c",
        re.compile(r"^d_(\d)$"),
        "d_N",
        lambda path, _match: FoundFile(path, "d"),
        progress=False,
        suffixes={".au"},
    )
    assert [c.id for c in with_au.manifest] == ["c/d_3"]

"""Manifests: JSON Lines round trip, relative paths resolve against the manifest."""

from __future__ import annotations

from pathlib import Path

import pytest

from audioclf.formats.manifest import Clip, Manifest, ManifestError, read_manifest, write_manifest


def test_round_trip_and_relative_paths(tmp_path: Path) -> None:
    clips = [Clip(id="a", path="clips/a.wav", label="x", speaker="s1")]
    path = write_manifest(Manifest(clips), tmp_path / "sub" / "m.jsonl")
    back = read_manifest(path)
    assert [c.id for c in back] == ["a"] and back[0].speaker == "s1"
    assert Path(back[0].path) == (tmp_path / "sub" / "clips" / "a.wav").resolve()


def test_duplicate_ids_are_refused() -> None:
    clips = [Clip(id="a", path="a.wav", label="x"), Clip(id="a", path="b.wav", label="y")]
    with pytest.raises(ManifestError, match="duplicate"):
        Manifest(clips).validate()

"""Atomic writes: the target is whole or untouched, and no temporary file is left."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from audioclf.formats.atomic import atomic_path, is_temporary, write_json, write_text


def test_a_write_replaces_the_target_and_leaves_nothing_else(tmp_path: Path) -> None:
    target = tmp_path / "a.json"
    write_text(target, "old")
    write_json(target, {"k": "ü"})
    assert target.read_text(encoding="utf-8") == '{\n  "k": "ü"\n}\n'
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.json"]


def test_a_failed_write_keeps_the_old_file(tmp_path: Path) -> None:
    target = tmp_path / "a.txt"
    write_text(target, "old")
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("disk full")
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt"]


def test_the_temporary_name_keeps_the_suffix_for_format_picking_writers(tmp_path: Path) -> None:
    target = tmp_path / "v.npz"
    with atomic_path(target) as tmp:
        assert tmp.suffix == ".npz" and tmp.parent == tmp_path and is_temporary(tmp)
        np.savez(tmp, x=np.arange(3))  # would append .npz to any other name
    with np.load(target) as data:
        np.testing.assert_array_equal(data["x"], np.arange(3))
    assert not is_temporary(target)

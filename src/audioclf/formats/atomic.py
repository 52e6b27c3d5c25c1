"""Write a file so that a reader sees the old version or the new one, never half of one.

Every file audioclf writes for another process to read (manifests, run folders, the
feature cache, checkpoints, synthesised audio, feedback clips) goes through
:func:`atomic_path`: the writer fills a temporary file beside the target and it replaces
the target in one ``os.replace`` (atomic on POSIX and Windows within one file system).
The temporary name is unique per call, so two writers of the same target never share one,
hidden (a leading dot), and keeps the target's suffix so that writers which pick a format
by extension (``np.savez``, ``soundfile.write``) write the right one. On an error the
temporary file is removed and the target is left as it was.

Written here rather than taken from a library: the packages for it (``atomicwrites``) are
unmaintained, and this is the whole of it.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

TMP_MARK = ".tmp"
"""Part of every temporary name: ``.NAME.<hex>.tmp<suffix>`` beside the target."""


def temporary_name(path: Path) -> Path:
    """A fresh temporary path beside ``path`` that keeps its suffix."""
    return path.with_name(f".{path.name}.{uuid.uuid4().hex[:12]}{TMP_MARK}{path.suffix}")


def is_temporary(path: Path) -> bool:
    """Whether ``path`` is a temporary file :func:`atomic_path` made (left by a crash)."""
    return path.name.startswith(".") and TMP_MARK in path.name


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """A temporary path to write; on a clean exit it replaces ``path``, on an error it is
    removed. The parent folder must exist."""
    target = Path(path)
    tmp = temporary_name(target)
    try:
        yield tmp
        tmp.replace(target)
    finally:
        tmp.unlink(missing_ok=True)


def write_bytes(path: str | Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return Path(path)


def write_text(path: str | Path, text: str) -> Path:
    """Write UTF-8 ``text`` to ``path`` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


def write_json(path: str | Path, data: Any) -> Path:
    """Write ``data`` as indented UTF-8 JSON to ``path`` atomically."""
    return write_text(path, json.dumps(data, indent=2, ensure_ascii=False) + "\n")

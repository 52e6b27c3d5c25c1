"""Build tiny fake corpus trees for the recipe tests: short tones and one corrupt file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf

from audioclf.formats.manifest import Clip
from audioclf.recipes import PrepareResult


def write_tone(path: Path, seconds: float = 0.1, sr: int = 8000, channels: int = 1) -> Path:
    """A short sine tone; WAV or FLAC by the (case-folded) extension."""
    path.parent.mkdir(parents=True, exist_ok=True)
    t = np.arange(int(seconds * sr)) / sr
    y = (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    data = np.stack([y] * channels, axis=1) if channels > 1 else y
    fmt = "FLAC" if path.suffix.lower() == ".flac" else "WAV"
    sf.write(path, data, sr, format=fmt, subtype="PCM_16")
    return path


def write_corrupt(path: Path) -> Path:
    """A file with an audio extension that holds no audio."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"this is not audio at all, just text")
    return path


def tree(root: Path, names: list[str], corrupt: tuple[str, ...] = ()) -> Path:
    """Write ``names`` (paths relative to ``root``) as tones and ``corrupt`` as junk files."""
    for name in names:
        write_tone(root / name)
    for name in corrupt:
        write_corrupt(root / name)
    return root


def by_id(result: PrepareResult) -> dict[str, Clip]:
    """Clips keyed by id, for compact assertions."""
    return {clip.id: clip for clip in result.manifest}


def skipped_names(result: PrepareResult) -> list[str]:
    """File names of the skipped files."""
    return sorted(Path(s.path).name for s in result.skipped)

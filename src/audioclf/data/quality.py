"""Per-clip signal quality: duration before and after trimming, level, clipping, silence, DC.

:func:`measure_clip` is a pure function of a waveform; :func:`measure_manifest` decodes every
clip of a manifest at its native sample rate (under a progress bar) and measures it, setting
aside the files that cannot be decoded as :class:`~audioclf.formats.manifest.SkippedFile` rows
together with the files the recipe already skipped when the manifest was prepared.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import librosa
import numpy as np

from audioclf.audio import AudioError, load_audio
from audioclf.console import track
from audioclf.formats.manifest import Clip, Manifest, SkippedFile, read_manifest, read_skipped

CLIP_LEVEL = 0.999
"""A sample counts as clipped when ``|x|`` reaches this fraction of full scale."""
FRAME_SECONDS = 0.025
"""Frame length of the silence measure."""
SILENCE_BELOW_PEAK_DB = 30.0
"""A frame this many dB under the clip's loudest frame is silent."""
SILENCE_DBFS = -80.0
"""A frame quieter than this (RMS, dB re full scale) is silent whatever the clip's peak."""
FLOOR_DB = -120.0
"""Level reported for digital silence instead of minus infinity."""


@dataclass(frozen=True)
class ClipQuality:
    """What one clip sounds like, measured on its mono mix at the native sample rate."""

    id: str
    label: str
    speaker: str | None
    gender: str | None
    path: str
    duration: float
    """Seconds of audio in the file."""
    trimmed_duration: float
    """Seconds left after trimming leading and trailing silence (``librosa.effects.trim``)."""
    sample_rate: int
    channels: int
    peak: float
    """Largest absolute sample value (1.0 = full scale)."""
    rms_dbfs: float
    """Level of the whole clip, dB re full scale (``FLOOR_DB`` for digital silence)."""
    clipping_ratio: float
    """Fraction of samples with ``|x| >= 0.999``."""
    silence_ratio: float
    """Fraction of 25 ms frames > 30 dB under the loudest one (see :func:`silence_ratio`)."""
    dc_offset: float
    """Mean sample value."""

    def to_dict(self) -> dict[str, Any]:
        """The clip's measures as a JSON-ready dict."""
        return asdict(self)


def _dbfs(rms: np.ndarray | float) -> np.ndarray:
    """RMS amplitude to dB re full scale, floored at :data:`FLOOR_DB`."""
    level = np.asarray(rms, dtype=np.float64)
    with np.errstate(divide="ignore"):
        db = 20.0 * np.log10(np.maximum(level, 0.0))
    return np.maximum(db, FLOOR_DB)


def silence_ratio(y: np.ndarray, sr: int) -> float:
    """Fraction of non-overlapping 25 ms frames that are silent.

    A frame is silent when its RMS level is more than 30 dB under the loudest frame of the
    clip, or below −80 dBFS (digital silence). The threshold is relative to the clip, not a
    fixed −40 dBFS, because whole corpora are recorded quietly: RAVDESS speech has a median
    level near −40 dBFS, and a fixed threshold would call half of its speech silent. A
    trailing partial frame is measured as a frame of its own; an all-zero clip gives 1.0.
    """
    frame = max(1, round(FRAME_SECONDS * sr))
    n_frames = -(-len(y) // frame)
    if n_frames == 0:
        return 1.0
    padded = np.zeros(n_frames * frame, dtype=np.float64)
    padded[: len(y)] = y
    squares = (padded.reshape(n_frames, frame) ** 2).sum(axis=1)
    lengths = np.full(n_frames, frame, dtype=np.float64)
    lengths[-1] = len(y) - (n_frames - 1) * frame
    levels = _dbfs(np.sqrt(squares / lengths))
    loudest = float(levels.max())
    silent = (levels < SILENCE_DBFS) | (levels < loudest - SILENCE_BELOW_PEAK_DB)
    return float(silent.mean())


def trimmed_duration(y: np.ndarray, sr: int, top_db: float = 30.0) -> float:
    """Seconds left after trimming leading/trailing audio ``top_db`` under the peak."""
    if len(y) == 0 or not np.any(y):
        return 0.0
    trimmed, _ = librosa.effects.trim(y, top_db=top_db)
    return len(trimmed) / sr


def measure_clip(
    y: np.ndarray,
    sr: int,
    *,
    clip: Clip | None = None,
    channels: int = 1,
    top_db: float = 30.0,
) -> ClipQuality:
    """Measure a mono waveform ``y`` at ``sr`` Hz; ``clip`` supplies id, label, speaker, gender.

    ``channels`` is how many channels the file had before it was mixed to mono, and
    ``top_db`` how far under the peak audio counts as silence when trimming.
    """
    if sr <= 0:
        raise ValueError(f"sample rate must be positive, got {sr}")
    samples = np.asarray(y, dtype=np.float32).reshape(-1)
    wide = samples.astype(np.float64)
    n = len(samples)
    return ClipQuality(
        id=clip.id if clip else "",
        label=clip.label if clip else "",
        speaker=clip.speaker if clip else None,
        gender=clip.gender if clip else None,
        path=clip.path if clip else "",
        duration=n / sr,
        trimmed_duration=trimmed_duration(samples, sr, top_db),
        sample_rate=int(sr),
        channels=int(channels),
        peak=float(np.abs(wide).max()) if n else 0.0,
        rms_dbfs=float(_dbfs(np.sqrt(np.mean(wide**2))) if n else FLOOR_DB),
        clipping_ratio=float(np.mean(np.abs(wide) >= CLIP_LEVEL)) if n else 0.0,
        silence_ratio=silence_ratio(wide, sr),
        dc_offset=float(wide.mean()) if n else 0.0,
    )


def _reason(exc: Exception) -> str:
    """A failure without the file name (the row already names the file)."""
    if isinstance(exc, AudioError):
        return f"{exc.reason} ({exc.detail})" if exc.detail else exc.reason
    return f"{type(exc).__name__}: {exc}"


def measure_manifest(
    manifest: Manifest | str | Path,
    *,
    progress: bool = True,
    top_db: float = 30.0,
) -> tuple[list[ClipQuality], list[SkippedFile]]:
    """Measure every clip of a manifest (a :class:`Manifest` or the path of a JSONL file).

    Returns the measures of the readable clips, in manifest order, and the unreadable files
    with the reason. When a path is given, the files the recipe skipped at prepare time (the
    ``NAME.skipped.jsonl`` sidecar) come first in that list.
    """
    skipped: list[SkippedFile] = []
    if not isinstance(manifest, Manifest):
        skipped.extend(read_skipped(manifest))
        manifest = read_manifest(manifest)
    qualities: list[ClipQuality] = []
    for clip in track(manifest, "measuring audio", enabled=progress):
        try:
            audio = load_audio(clip.path, None)
        except (AudioError, OSError) as exc:
            skipped.append(SkippedFile(path=clip.path, reason=_reason(exc)))
            continue
        qualities.append(
            measure_clip(
                audio.samples,
                audio.sample_rate,
                clip=clip,
                channels=audio.original.channels,
                top_db=top_db,
            )
        )
    return qualities, skipped

"""A tiny labelled corpus on disk: classes are tone patterns, speakers shift pitch and level.

Easy enough that a few epochs learn it, so tests can check that training really learns.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf

from audioclf.formats.manifest import Clip, Manifest, write_manifest

CLASS_FREQS = {"low": 300.0, "mid": 900.0, "high": 2400.0}


def make_corpus(
    root: Path,
    *,
    classes: tuple[str, ...] = ("low", "high"),
    speakers: int = 6,
    per_class: int = 3,
    seconds: float = 0.6,
    sr: int = 16_000,
    seed: int = 0,
    corpus: str = "synthetic",
) -> Path:
    """Write WAV clips and ``manifest.jsonl`` under ``root``; return the manifest path."""
    rng = np.random.default_rng(seed)
    root.mkdir(parents=True, exist_ok=True)
    clips = []
    for s in range(speakers):
        shift = 1.0 + 0.05 * (s - speakers / 2) / speakers
        level = 0.2 + 0.05 * (s % 3)
        for label in classes:
            for k in range(per_class):
                n = int(seconds * sr * rng.uniform(0.8, 1.2))
                t = np.arange(n) / sr
                freq = CLASS_FREQS.get(label, 600.0) * shift
                y = level * np.sin(2 * np.pi * freq * t) + 0.02 * rng.standard_normal(n)
                path = root / f"spk{s}" / f"{label}_{k}.wav"
                path.parent.mkdir(exist_ok=True)
                sf.write(path, y.astype(np.float32), sr)
                clips.append(
                    Clip(
                        id=f"{corpus}/spk{s}/{label}_{k}",
                        path=str(path),
                        label=label,
                        speaker=f"spk{s}",
                        gender="female" if s % 2 else "male",
                        duration=n / sr,
                        sample_rate=sr,
                        channels=1,
                        corpus=corpus,
                    )
                )
    return write_manifest(Manifest(clips), root / "manifest.jsonl")

"""What a long clip is scored on: the whole clip up to a cap, past it evenly spaced excerpts.

A model's cost grows with the seconds it scores (feature extractors and crops run over
the whole clip), so a server bounds it per request by ``max_scored_seconds`` whatever the
upload holds. Excerpts of :data:`EXCERPT_SECONDS` are taken at even spacing from start to
end and joined, so the cap covers the whole recording rather than only its beginning;
the models average over crops and frames, so the joins weigh as little as one frame.
"""

from __future__ import annotations

import math

import numpy as np

EXCERPT_SECONDS = 5.0


def scored_excerpts(
    y: np.ndarray, sample_rate: int, max_seconds: float, *, excerpt_seconds: float = EXCERPT_SECONDS
) -> tuple[np.ndarray, bool]:
    """``y`` itself when it lasts at most ``max_seconds``; else evenly spaced excerpts of
    ``excerpt_seconds`` (shorter when the cap is) joined into ``max_seconds`` of audio.
    The flag says whether excerpts were taken."""
    cap = round(max_seconds * sample_rate)
    if cap <= 0:
        raise ValueError(f"max_seconds must be positive, not {max_seconds}")
    if len(y) <= cap:
        return y, False
    length = min(cap, max(1, round(excerpt_seconds * sample_rate)))
    count = max(1, math.floor(cap / length))
    if count == 1:
        starts = [(len(y) - length) // 2]
    else:
        starts = np.linspace(0, len(y) - length, count).round().astype(int).tolist()
    return np.concatenate([y[s : s + length] for s in starts]), True

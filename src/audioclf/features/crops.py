"""Fixed-length windows of a waveform: random crops for training, covering crops for evaluation.

Models see inputs of one length. Training takes one random window per clip and epoch
(a short clip is zero-padded at a random offset, so the model does not learn where
silence sits); evaluation takes overlapping windows that cover the whole clip, the last
one aligned to its end, and averages their predictions. All functions are pure numpy and
return new float32 arrays.
"""

from __future__ import annotations

import numpy as np


def _check_length(n_samples: int) -> None:
    if n_samples <= 0:
        raise ValueError(f"n_samples must be a positive number of samples, got {n_samples}")


def _pad_at(y: np.ndarray, n_samples: int, offset: int) -> np.ndarray:
    out = np.zeros(n_samples, dtype=np.float32)
    out[offset : offset + len(y)] = y
    return out


def random_crop(y: np.ndarray, n_samples: int, rng: np.random.Generator) -> np.ndarray:
    """Exactly ``n_samples``: a random window of a longer clip, or a shorter clip
    zero-padded at a random offset."""
    _check_length(n_samples)
    y = np.asarray(y, dtype=np.float32)
    if len(y) >= n_samples:
        start = int(rng.integers(0, len(y) - n_samples + 1))
        return y[start : start + n_samples].copy()
    offset = int(rng.integers(0, n_samples - len(y) + 1))
    return _pad_at(y, n_samples, offset)


def center_crop(y: np.ndarray, n_samples: int) -> np.ndarray:
    """Exactly ``n_samples``: the middle of a longer clip, or a shorter clip zero-padded
    equally on both sides."""
    _check_length(n_samples)
    y = np.asarray(y, dtype=np.float32)
    if len(y) >= n_samples:
        start = (len(y) - n_samples) // 2
        return y[start : start + n_samples].copy()
    return _pad_at(y, n_samples, (n_samples - len(y)) // 2)


def crop_starts(length: int, n_samples: int, hop: float = 0.5) -> list[int]:
    """Start offsets of ``n_samples`` windows spaced ``hop * n_samples`` apart that cover
    ``length`` samples, the last window ending exactly at the end (``[0]`` when short)."""
    _check_length(n_samples)
    if not 0 < hop <= 1:
        raise ValueError(f"hop is a fraction of the window in (0, 1], got {hop}")
    if length <= n_samples:
        return [0]
    step = max(1, round(n_samples * hop))
    last = length - n_samples
    starts = list(range(0, last + 1, step))
    if starts[-1] != last:
        starts.append(last)
    return starts


def eval_crops(y: np.ndarray, n_samples: int, *, hop: float = 0.5) -> list[np.ndarray]:
    """Overlapping ``n_samples`` windows covering the whole clip, the last aligned to its
    end; a clip no longer than a window gives one centred, zero-padded window."""
    y = np.asarray(y, dtype=np.float32)
    starts = crop_starts(len(y), n_samples, hop)
    if len(y) <= n_samples:
        return [center_crop(y, n_samples)]
    return [y[s : s + n_samples].copy() for s in starts]

"""The transform base class: probability, seeded random draws, and a safe output.

Modelled on audiomentations' ``BaseWaveformTransform`` — the base class owns the flow
``__call__`` → :meth:`Transform.randomize_parameters` → :meth:`Transform.apply`, and the
random draws of a call are kept in ``self.parameters`` — with one change: every random
number comes from the ``numpy.random.Generator`` passed to the call, never from global
state. The same generator state therefore gives the same output, in any thread or worker
process. Transforms that need random *signals* (noise, impulse responses) draw a ``seed``
in :meth:`~Transform.randomize_parameters`, so ``parameters`` alone reproduce ``apply``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, ClassVar

import numpy as np


class AugmentConfigError(ValueError):
    """A transform argument is out of range; the message names it and what is allowed."""


def check_range(name: str, low: float, high: float, *, lo: float, hi: float) -> None:
    """Raise :class:`AugmentConfigError` unless ``lo <= low <= high <= hi``."""
    if not lo <= low <= high <= hi:
        raise AugmentConfigError(
            f"{name}: need {lo:g} <= min <= max <= {hi:g}, got min={low:g}, max={high:g}"
        )


def fit_length(y: np.ndarray, n_samples: int) -> np.ndarray:
    """Crop the end off, or zero-pad the end, to exactly ``n_samples``."""
    if len(y) >= n_samples:
        return y[:n_samples]
    return np.pad(y, (0, n_samples - len(y)))


def finish(y: np.ndarray, n_samples: int) -> np.ndarray:
    """float32, ``n_samples`` long, finite, and peak-normalised when it exceeds ±1."""
    out = fit_length(np.asarray(y, dtype=np.float32), n_samples)
    out = np.nan_to_num(out, nan=0.0, posinf=0.0, neginf=0.0)
    peak = float(np.max(np.abs(out))) if len(out) else 0.0
    if peak > 1.0:
        out = out / peak
    return np.ascontiguousarray(out, dtype=np.float32)


def rms(y: np.ndarray) -> float:
    """Root mean square of a signal (float64 accumulation)."""
    return float(np.sqrt(np.mean(np.square(y, dtype=np.float64)))) if len(y) else 0.0


class Transform(ABC):
    """A random waveform transform applied with probability ``p``.

    Subclasses draw their random parameters from ``rng`` in :meth:`randomize_parameters`
    (storing them in ``self.parameters``) and use only those in :meth:`apply`.
    """

    name: ClassVar[str] = ""
    """The key of this transform in an augmentation spec (e.g. ``gain``)."""

    def __init__(self, p: float = 0.5) -> None:
        if not 0.0 <= p <= 1.0:
            raise AugmentConfigError(f"{type(self).__name__}: p must be in [0, 1], got {p}")
        self.p = float(p)
        self.parameters: dict[str, Any] = {"should_apply": None}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if not k.startswith("_"))
        return f"{type(self).__name__}({args})"

    def __call__(self, y: np.ndarray, sr: int, rng: np.random.Generator) -> np.ndarray:
        """Transform ``y`` (mono, ``sr`` Hz) with probability ``p``, drawing from ``rng``."""
        y = np.asarray(y, dtype=np.float32)
        self.parameters = {"should_apply": bool(rng.random() < self.p)}
        if not self.parameters["should_apply"] or len(y) == 0:
            return y
        self.randomize_parameters(rng, y, sr)
        return finish(self.apply(y, sr), len(y))

    @abstractmethod
    def randomize_parameters(self, rng: np.random.Generator, y: np.ndarray, sr: int) -> None:
        """Draw this call's random parameters from ``rng`` into ``self.parameters``."""

    @abstractmethod
    def apply(self, y: np.ndarray, sr: int) -> np.ndarray:
        """The transform itself, using only ``self.parameters`` for randomness."""

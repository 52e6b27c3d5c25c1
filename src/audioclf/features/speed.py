"""Speed perturbation: a clip played slower or faster, as extra views of it.

Playing a clip at speed ``s`` (resampling it by ``1/s`` and reading the result at the
original rate) scales its duration by ``1/s`` and every frequency — pitch, formants — by
``s``, as a slightly different speaker saying the same thing at a different tempo. Ko et
al. ("Audio augmentation for speech recognition", Interspeech 2015) made speeds 0.9, 1.0
and 1.1 the standard augmentation of speech recognisers (Kaldi's ``sox speed``).

The classical models use it twice (``speeds`` in the run config; see
:mod:`audioclf.models.multiview`): every training clip adds one row per speed, and every
clip is scored at its own speed and at each of the others, the probabilities averaged.
The feature vector of a clip is then the vectors of its views, one after the other: at
1.0 first, then at each of ``speeds``. What it gains: docs/design.md ("Speed views")
and the `auto` rows of docs/benchmarks.md.

We resample with soxr (the library the audio loader already uses) rather than
audiomentations' time stretch or pitch shift, which change one of tempo and pitch while
holding the other with a phase vocoder; speed perturbation changes both, with no
artefacts, and is a plain sample-rate conversion.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

VectorFn = Callable[[np.ndarray, int], np.ndarray]
"""A feature function: mono waveform and sample rate in, one vector out."""

MIN_SPEED = 0.5
MAX_SPEED = 2.0


class SpeedError(ValueError):
    """Speeds that cannot be used, and why."""


def check_speeds(speeds: Sequence[float]) -> tuple[float, ...]:
    """``speeds`` as a tuple of distinct extra speeds, each in ``[0.5, 2]`` and not 1."""
    out = tuple(float(s) for s in speeds)
    bad = [s for s in out if not (MIN_SPEED <= s <= MAX_SPEED) or s == 1.0]
    if bad:
        raise SpeedError(
            f"speeds {bad}: each extra speed must be between {MIN_SPEED} and {MAX_SPEED} "
            "and not 1.0 (the clip itself is always a view)"
        )
    if len(set(out)) != len(out):
        raise SpeedError(f"speeds {list(out)} repeat a speed")
    return out


def views(speeds: Sequence[float]) -> tuple[float, ...]:
    """The speeds a clip is seen at: itself (1.0) first, then ``speeds``."""
    return (1.0, *check_speeds(speeds))


def at_speed(y: np.ndarray, sr: int, speed: float) -> np.ndarray:
    """``y`` (mono, at ``sr``) played ``speed`` times as fast, still at ``sr``."""
    y = np.asarray(y, dtype=np.float32)
    if speed == 1.0 or not len(y):
        return y
    import soxr

    return np.asarray(soxr.resample(y, sr * speed, sr, quality="HQ"), dtype=np.float32)


def played_at(fn: VectorFn, speed: float) -> VectorFn:
    """The feature function ``fn`` applied to the waveform played at ``speed``."""
    if speed == 1.0:
        return fn

    def perturbed(y: np.ndarray, sr: int) -> np.ndarray:
        return fn(at_speed(y, sr, speed), sr)

    return perturbed

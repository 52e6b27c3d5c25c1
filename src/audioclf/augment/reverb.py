"""Reverb from a synthetic room impulse response.

No recorded impulse responses ship with audioclf, so the room is made up: a direct path,
a few early reflections (5–50 ms), and a diffuse tail of Gaussian noise under an
exponential envelope that falls 60 dB in RT60 seconds. The dry clip is convolved with it
(``scipy.signal.fftconvolve``) and mixed with the dry signal at a random wet level. Our
own because audiomentations' ApplyImpulseResponse needs IR files and RoomSimulator needs
pyroomacoustics and costs far more per call.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
from scipy.signal import fftconvolve

from audioclf.augment.base import Transform, check_range, rms

_LN_1000 = float(np.log(1000.0))  # 60 dB in amplitude: exp(-ln(1000)) = 1e-3


def synthetic_rir(
    sr: int, rt60: float, rng: np.random.Generator, *, n_reflections: int | None = None
) -> np.ndarray:
    """A room impulse response ``rt60`` seconds long (float32, peak 1 at the direct path)."""
    length = max(2, round(rt60 * sr))
    t = np.arange(length) / sr
    envelope = np.exp(-_LN_1000 * t / rt60)
    rir = 0.3 * rng.standard_normal(length) * envelope
    count = int(rng.integers(3, 9)) if n_reflections is None else n_reflections
    delays = rng.integers(max(1, round(0.005 * sr)), max(2, round(0.05 * sr)), size=count)
    delays = np.minimum(delays, length - 1)
    signs = rng.choice(np.array([-1.0, 1.0]), size=count)
    rir[delays] += signs * rng.uniform(0.2, 0.7, size=count) * envelope[delays]
    rir[0] = 1.0
    return (rir / np.max(np.abs(rir))).astype(np.float32)


class Reverb(Transform):
    """Convolve with a synthetic room (RT60 drawn in [min_rt60, max_rt60] s) and mix
    wet:dry at a wet fraction drawn in [min_wet, max_wet]."""

    name: ClassVar[str] = "reverb"

    def __init__(
        self,
        min_rt60: float = 0.2,
        max_rt60: float = 0.8,
        min_wet: float = 0.2,
        max_wet: float = 0.5,
        p: float = 0.5,
    ):
        super().__init__(p)
        check_range("rt60 seconds", min_rt60, max_rt60, lo=0.01, hi=3.0)
        check_range("wet fraction", min_wet, max_wet, lo=0.0, hi=1.0)
        self.min_rt60, self.max_rt60 = min_rt60, max_rt60
        self.min_wet, self.max_wet = min_wet, max_wet

    def randomize_parameters(self, rng: np.random.Generator, y: np.ndarray, sr: int) -> None:
        self.parameters["rt60"] = float(rng.uniform(self.min_rt60, self.max_rt60))
        self.parameters["wet"] = float(rng.uniform(self.min_wet, self.max_wet))
        self.parameters["seed"] = int(rng.integers(2**63))

    def apply(self, y: np.ndarray, sr: int) -> np.ndarray:
        rng = np.random.default_rng(self.parameters["seed"])
        rir = synthetic_rir(sr, self.parameters["rt60"], rng)
        wet = fftconvolve(y, rir)[: len(y)]
        dry_level, wet_level = rms(y), rms(wet)
        if wet_level > 0:
            wet = wet * (dry_level / wet_level)  # same loudness, so ``wet`` is a true mix ratio
        mix = self.parameters["wet"]
        return ((1.0 - mix) * y + mix * wet).astype(np.float32)

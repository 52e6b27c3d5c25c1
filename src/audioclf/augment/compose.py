"""Chains of transforms, named presets, and building an augmentation from a config.

Presets (probabilities are per transform, per clip):

- ``light``: gain ±3 dB (p .5), white noise at 20–40 dB SNR (p .2), shift ±5 % (p .3).
- ``default``: gain ±6 dB (p .5), coloured noise (white to brown/violet) at 10–30 dB SNR
  (p .3), shift ±10 % (p .5), pitch ±2 semitones (p .2), stretch 0.9–1.1 (p .2), reverb
  RT60 0.2–0.8 s (p .2). About 3.5 ms per 3 s clip at 16 kHz on average
  (pitch and stretch cost ~6 ms each when they fire; the rest < 2 ms).
- ``strong``: gain ±9 dB (p .6), coloured noise at 5–25 dB (p .5), shift ±20 % (p .6),
  pitch ±3 semitones (p .3), stretch 0.85–1.15 (p .3), reverb RT60 0.2–1.2 s (p .3).

With a ``noise_dir``, every preset also mixes in background noise from that folder
(``light`` at 15–30 dB p .2, ``default`` 5–25 dB p .3, ``strong`` 0–20 dB p .4).

A config may instead give a mapping ``{transform_name: {param: value}}`` (e.g. from YAML);
names are the keys of :data:`TRANSFORMS`, parameters those of the transform's constructor.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from audioclf.augment.base import AugmentConfigError, Transform, finish
from audioclf.augment.reverb import Reverb
from audioclf.augment.waveform import (
    BackgroundNoise,
    ColoredNoise,
    Gain,
    PitchShift,
    TimeShift,
    TimeStretch,
    WhiteNoise,
)

Augment = Callable[[np.ndarray, int, np.random.Generator], np.ndarray]
"""What the trainer calls: ``augment(waveform, sample_rate, rng) -> waveform``."""

TRANSFORMS: dict[str, type[Transform]] = {
    cls.name: cls
    for cls in (
        Gain,
        WhiteNoise,
        ColoredNoise,
        TimeShift,
        TimeStretch,
        PitchShift,
        BackgroundNoise,
        Reverb,
    )
}
"""Transform classes by their spec name."""

PRESETS: dict[str, dict[str, dict[str, Any]]] = {
    "light": {
        "gain": {"min_gain_db": -3.0, "max_gain_db": 3.0, "p": 0.5},
        "white_noise": {"min_snr_db": 20.0, "max_snr_db": 40.0, "p": 0.2},
        "time_shift": {"max_fraction": 0.05, "p": 0.3},
    },
    "default": {
        "gain": {"min_gain_db": -6.0, "max_gain_db": 6.0, "p": 0.5},
        "colored_noise": {"min_snr_db": 10.0, "max_snr_db": 30.0, "p": 0.3},
        "time_shift": {"max_fraction": 0.1, "p": 0.5},
        "pitch_shift": {"min_semitones": -2.0, "max_semitones": 2.0, "p": 0.2},
        "time_stretch": {"min_rate": 0.9, "max_rate": 1.1, "p": 0.2},
        "reverb": {"min_rt60": 0.2, "max_rt60": 0.8, "p": 0.2},
    },
    "strong": {
        "gain": {"min_gain_db": -9.0, "max_gain_db": 9.0, "p": 0.6},
        "colored_noise": {"min_snr_db": 5.0, "max_snr_db": 25.0, "p": 0.5},
        "time_shift": {"max_fraction": 0.2, "p": 0.6},
        "pitch_shift": {"min_semitones": -3.0, "max_semitones": 3.0, "p": 0.3},
        "time_stretch": {"min_rate": 0.85, "max_rate": 1.15, "p": 0.3},
        "reverb": {"min_rt60": 0.2, "max_rt60": 1.2, "p": 0.3},
    },
}
"""Named augmentation specs (see the module docstring)."""

_PRESET_NOISE: dict[str, dict[str, float]] = {
    "light": {"min_snr_db": 15.0, "max_snr_db": 30.0, "p": 0.2},
    "default": {"min_snr_db": 5.0, "max_snr_db": 25.0, "p": 0.3},
    "strong": {"min_snr_db": 0.0, "max_snr_db": 20.0, "p": 0.4},
}


class Compose:
    """Apply transforms in order, each with its own probability, all drawing from one rng."""

    def __init__(self, transforms: Sequence[Augment]) -> None:
        self.transforms = list(transforms)

    def __repr__(self) -> str:
        inner = ", ".join(repr(t) for t in self.transforms)
        return f"Compose([{inner}])"

    def __len__(self) -> int:
        return len(self.transforms)

    def __call__(self, y: np.ndarray, sr: int, rng: np.random.Generator) -> np.ndarray:
        """The transformed clip: float32, same length, finite, within ±1."""
        n = len(y)
        out = np.asarray(y, dtype=np.float32)
        for transform in self.transforms:
            out = transform(out, sr, rng)
        return finish(out, n)


def _parameters(cls: type[Transform]) -> list[str]:
    names = list(inspect.signature(cls.__init__).parameters)[1:]
    return [n for n in names if n != "cache"]


def _build_one(name: str, params: Any, noise_dir: Path | None) -> Transform:
    key = str(name).strip().lower()
    if key not in TRANSFORMS:
        raise AugmentConfigError(
            f"unknown augmentation transform {name!r}; valid: {', '.join(sorted(TRANSFORMS))}"
        )
    cls = TRANSFORMS[key]
    if params is None:
        params = {}
    if not isinstance(params, Mapping):
        raise AugmentConfigError(
            f"augmentation {key!r}: parameters must be a mapping like {{p: 0.5}}, got {params!r}"
        )
    valid = _parameters(cls)
    unknown = sorted(set(map(str, params)) - set(valid))
    if unknown:
        raise AugmentConfigError(
            f"augmentation {key!r}: unknown parameter(s) {', '.join(unknown)}; "
            f"valid: {', '.join(valid)}"
        )
    kwargs = dict(params)
    if cls is BackgroundNoise and "noise_dir" not in kwargs:
        if noise_dir is None:
            raise AugmentConfigError(
                "augmentation 'background_noise' needs a noise folder: "
                "set noise_dir in its parameters or pass --noise-dir"
            )
        kwargs["noise_dir"] = noise_dir
    try:
        return cls(**kwargs)
    except TypeError as exc:
        raise AugmentConfigError(f"augmentation {key!r}: {exc}") from exc


def build_augmentation(
    spec: str | Mapping[str, Any] | None, *, noise_dir: Path | None = None
) -> Augment | None:
    """An augmentation from a preset name, a ``{transform: {params}}`` mapping, or None.

    ``None``, ``"none"`` and an empty mapping mean no augmentation (returns None). A preset
    gains background noise from ``noise_dir`` when one is given. Unknown presets,
    transforms or parameters raise :class:`AugmentConfigError` (a ValueError) listing the
    valid ones.
    """
    if spec is None:
        return None
    if isinstance(spec, str):
        key = spec.strip().lower()
        if key in ("none", "off", ""):
            return None
        if key not in PRESETS:
            raise AugmentConfigError(
                f"unknown augmentation preset {spec!r}; valid: none, {', '.join(PRESETS)}, "
                "or a mapping {transform: {params}}"
            )
        mapping: dict[str, Any] = dict(PRESETS[key])
        if noise_dir is not None:
            mapping["background_noise"] = {"noise_dir": noise_dir, **_PRESET_NOISE[key]}
        spec = mapping
    if not isinstance(spec, Mapping):
        raise AugmentConfigError(
            f"augmentation must be a preset name or a mapping, got {type(spec).__name__}"
        )
    if not spec:
        return None
    return Compose([_build_one(name, params, noise_dir) for name, params in spec.items()])

"""Waveform augmentation: seeded transforms, presets, config-built chains, and mixup."""

from __future__ import annotations

from audioclf.augment.base import AugmentConfigError, Transform
from audioclf.augment.compose import (
    PRESETS,
    TRANSFORMS,
    Augment,
    Compose,
    build_augmentation,
)
from audioclf.augment.mixup import mixup
from audioclf.augment.reverb import Reverb, synthetic_rir
from audioclf.augment.waveform import (
    BackgroundNoise,
    ColoredNoise,
    Gain,
    NoiseFolderError,
    PitchShift,
    TimeShift,
    TimeStretch,
    WhiteNoise,
)

__all__ = [
    "PRESETS",
    "TRANSFORMS",
    "Augment",
    "AugmentConfigError",
    "BackgroundNoise",
    "ColoredNoise",
    "Compose",
    "Gain",
    "NoiseFolderError",
    "PitchShift",
    "Reverb",
    "TimeShift",
    "TimeStretch",
    "Transform",
    "WhiteNoise",
    "build_augmentation",
    "mixup",
    "synthetic_rir",
]

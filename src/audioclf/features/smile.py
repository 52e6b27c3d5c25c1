"""openSMILE functionals: the standard paralinguistic clip descriptors.

Two feature sets of the openSMILE toolkit (audEERING), computed in-process by the
``opensmile`` package (the ``smile`` extra: ``pip install 'audioclf[smile]'``):

* ``compare`` — ComParE 2016, 6373 functionals of 65 low-level descriptors (loudness,
  MFCC, spectral, voicing, jitter/shimmer …), the feature set of the Interspeech
  Computational Paralinguistics Challenges;
* ``egemaps`` — eGeMAPS v02, 88 functionals chosen for affect (Eyben et al. 2016).

We use the toolkit rather than re-deriving the descriptors with librosa: the sets are
defined by openSMILE's configuration files, and published results are comparable only
with its implementation. Clips shorter than :data:`MIN_SECONDS` are zero-padded (shorter
segments make openSMILE return NaN), and the vector never holds NaN or infinity.
"""

from __future__ import annotations

import threading
import warnings
from typing import Any

import numpy as np

MIN_SECONDS = 0.25
"""Clips are zero-padded to this length before extraction."""

FEATURE_SETS = {"compare": "ComParE_2016", "egemaps": "eGeMAPSv02"}
"""Input kind → openSMILE feature set."""

DIMS = {"compare": 6373, "egemaps": 88}

# One extractor per feature set and thread: openSMILE's process objects are not
# re-entrant, and with an instance each, two threads extract at once (ComParE is ~80 ms a
# clip-view, the largest cost of a cold run with speed views).
_local = threading.local()


class SmileUnavailableError(ValueError):
    """The ``opensmile`` package is missing (a ValueError: the CLI prints it as one line)."""


def _extractor(kind: str) -> Any:
    if kind not in FEATURE_SETS:
        raise ValueError(f"unknown openSMILE input kind {kind!r}; valid: {sorted(FEATURE_SETS)}")
    extractors: dict[str, Any] = _local.__dict__.setdefault("extractors", {})
    if kind not in extractors:
        try:
            import opensmile
        except ImportError as err:
            raise SmileUnavailableError(
                f"the {kind!r} features need the opensmile package: pip install 'audioclf[smile]'"
            ) from err
        extractors[kind] = opensmile.Smile(
            feature_set=getattr(opensmile.FeatureSet, FEATURE_SETS[kind]),
            feature_level=opensmile.FeatureLevel.Functionals,
        )
    return extractors[kind]


def smile_functionals(kind: str, y: np.ndarray, sr: int) -> np.ndarray:
    """The ``kind`` functionals of the mono waveform ``y``, shape ``(DIMS[kind],)`` float32."""
    y = np.nan_to_num(np.asarray(y, dtype=np.float32), nan=0.0, posinf=0.0, neginf=0.0)
    if y.ndim != 1:
        raise ValueError(f"expected a mono waveform (samples,), got shape {y.shape}")
    minimum = int(MIN_SECONDS * sr)
    if len(y) < minimum:
        y = np.pad(y, (0, minimum - len(y)))
    extractor = _extractor(kind)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        frame = extractor.process_signal(y, sr)
    vector = frame.to_numpy(dtype=np.float64)[0]
    return np.nan_to_num(vector, nan=0.0, posinf=0.0, neginf=0.0).astype(np.float32)


def compare_functionals(y: np.ndarray, sr: int) -> np.ndarray:
    """ComParE 2016 functionals, shape ``(6373,)``."""
    return smile_functionals("compare", y, sr)


def egemaps_functionals(y: np.ndarray, sr: int) -> np.ndarray:
    """eGeMAPS v02 functionals, shape ``(88,)``."""
    return smile_functionals("egemaps", y, sr)

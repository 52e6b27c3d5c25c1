"""Waveform transforms: gain, additive noise, time shift, time stretch, pitch shift.

Gain, TimeShift, TimeStretch and PitchShift wrap the audiomentations implementations: the
parameters are drawn here from the call's generator and handed to the audiomentations
transform frozen, so its own global-state draws never run. The noise transforms are our
own because audiomentations draws the noise samples themselves from ``np.random`` inside
``apply`` (no way to seed them per call), and scales noise from its *expected* RMS; ours
generate from a per-call seed and scale to the exact RMS, so the SNR asked for is the SNR
delivered.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, ClassVar

import audiomentations as am
import numpy as np

from audioclf.audio import AudioError
from audioclf.augment.base import Transform, check_range, rms
from audioclf.features.cache import FeatureCache

AUDIO_SUFFIXES = frozenset(
    {".wav", ".flac", ".ogg", ".opus", ".mp3", ".m4a", ".aac", ".aif", ".aiff", ".webm"}
)
"""File name endings BackgroundNoise picks up from its folder."""


def _run_frozen(
    transform: am.core.transforms_interface.BaseWaveformTransform,
    parameters: dict[str, Any],
    y: np.ndarray,
    sr: int,
) -> np.ndarray:
    """Run an audiomentations transform with the given parameters instead of its own draws."""
    transform.parameters = {"should_apply": True, **parameters}
    transform.freeze_parameters()
    return np.asarray(transform(y, sr), dtype=np.float32)


def mix_at_snr(y: np.ndarray, noise: np.ndarray, snr_db: float) -> np.ndarray:
    """``y`` plus ``noise`` scaled so that the signal-to-noise ratio is exactly ``snr_db``.

    A silent ``y`` or ``noise`` leaves ``y`` unchanged (the SNR is undefined).
    """
    signal_rms, noise_rms = rms(y), rms(noise)
    if signal_rms == 0.0 or noise_rms == 0.0:
        return y
    scale = signal_rms / (10.0 ** (snr_db / 20.0)) / noise_rms
    return (y + scale * noise).astype(np.float32)


def colored_noise(n: int, sr: int, f_decay_db: float, rng: np.random.Generator) -> np.ndarray:
    """Gaussian noise whose power falls by ``f_decay_db`` dB per octave (0 = white,
    -3 = pink, -6 = brown, +3 = blue), unit RMS."""
    white = rng.standard_normal(n)
    if f_decay_db != 0.0 and n > 1:
        freqs = np.fft.rfftfreq(n, 1.0 / sr)
        freqs[0] = freqs[1]
        # power ∝ f^beta with beta = dB/octave / (10·log10 2); amplitude is its square root
        beta = f_decay_db / (10.0 * np.log10(2.0))
        white = np.fft.irfft(np.fft.rfft(white) * freqs ** (beta / 2.0), n=n)
    level = rms(white)
    return (white / level if level > 0 else white).astype(np.float32)


class Gain(Transform):
    """Multiply by a gain drawn uniformly in [min_gain_db, max_gain_db] dB."""

    name: ClassVar[str] = "gain"

    def __init__(self, min_gain_db: float = -6.0, max_gain_db: float = 6.0, p: float = 0.5):
        super().__init__(p)
        check_range("gain dB", min_gain_db, max_gain_db, lo=-60.0, hi=60.0)
        self.min_gain_db, self.max_gain_db = min_gain_db, max_gain_db
        self._inner = am.Gain(min_gain_db=min_gain_db, max_gain_db=max_gain_db, p=1.0)

    def randomize_parameters(self, rng: np.random.Generator, y: np.ndarray, sr: int) -> None:
        self.parameters["gain_db"] = float(rng.uniform(self.min_gain_db, self.max_gain_db))

    def apply(self, y: np.ndarray, sr: int) -> np.ndarray:
        ratio = 10.0 ** (self.parameters["gain_db"] / 20.0)
        return _run_frozen(self._inner, {"amplitude_ratio": ratio}, y, sr)


class WhiteNoise(Transform):
    """Add white Gaussian noise at an SNR drawn uniformly in [min_snr_db, max_snr_db]."""

    name: ClassVar[str] = "white_noise"

    def __init__(self, min_snr_db: float = 10.0, max_snr_db: float = 30.0, p: float = 0.5):
        super().__init__(p)
        check_range("SNR dB", min_snr_db, max_snr_db, lo=-20.0, hi=100.0)
        self.min_snr_db, self.max_snr_db = min_snr_db, max_snr_db

    def randomize_parameters(self, rng: np.random.Generator, y: np.ndarray, sr: int) -> None:
        self.parameters["snr_db"] = float(rng.uniform(self.min_snr_db, self.max_snr_db))
        self.parameters["seed"] = int(rng.integers(2**63))

    def apply(self, y: np.ndarray, sr: int) -> np.ndarray:
        noise = np.random.default_rng(self.parameters["seed"]).standard_normal(len(y))
        return mix_at_snr(y, noise, self.parameters["snr_db"])


class ColoredNoise(Transform):
    """Add noise with a spectral slope drawn in [min_f_decay, max_f_decay] dB/octave at an
    SNR drawn in [min_snr_db, max_snr_db] (a slope of 0 is white noise)."""

    name: ClassVar[str] = "colored_noise"

    def __init__(
        self,
        min_snr_db: float = 10.0,
        max_snr_db: float = 30.0,
        min_f_decay: float = -6.0,
        max_f_decay: float = 6.0,
        p: float = 0.5,
    ):
        super().__init__(p)
        check_range("SNR dB", min_snr_db, max_snr_db, lo=-20.0, hi=100.0)
        check_range("f_decay dB/octave", min_f_decay, max_f_decay, lo=-12.0, hi=12.0)
        self.min_snr_db, self.max_snr_db = min_snr_db, max_snr_db
        self.min_f_decay, self.max_f_decay = min_f_decay, max_f_decay

    def randomize_parameters(self, rng: np.random.Generator, y: np.ndarray, sr: int) -> None:
        self.parameters["snr_db"] = float(rng.uniform(self.min_snr_db, self.max_snr_db))
        self.parameters["f_decay"] = float(rng.uniform(self.min_f_decay, self.max_f_decay))
        self.parameters["seed"] = int(rng.integers(2**63))

    def apply(self, y: np.ndarray, sr: int) -> np.ndarray:
        rng = np.random.default_rng(self.parameters["seed"])
        noise = colored_noise(len(y), sr, self.parameters["f_decay"], rng)
        return mix_at_snr(y, noise, self.parameters["snr_db"])


class TimeShift(Transform):
    """Shift by up to ``max_fraction`` of the clip either way; the part pushed out wraps
    round (``rollover``) or is replaced by silence."""

    name: ClassVar[str] = "time_shift"

    def __init__(self, max_fraction: float = 0.1, rollover: bool = True, p: float = 0.5):
        super().__init__(p)
        check_range("shift fraction", 0.0, max_fraction, lo=0.0, hi=1.0)
        self.max_fraction, self.rollover = max_fraction, rollover
        self._inner = am.Shift(
            min_shift=-max_fraction,
            max_shift=max_fraction,
            shift_unit="fraction",
            rollover=rollover,
            fade_duration=0.0,
            p=1.0,
        )

    def randomize_parameters(self, rng: np.random.Generator, y: np.ndarray, sr: int) -> None:
        amount = float(rng.uniform(-self.max_fraction, self.max_fraction))
        self.parameters["shift_amount"] = amount

    def apply(self, y: np.ndarray, sr: int) -> np.ndarray:
        return _run_frozen(self._inner, {"shift_amount": self.parameters["shift_amount"]}, y, sr)


class TimeStretch(Transform):
    """Speed up or slow down without changing pitch, by a rate drawn in [min_rate,
    max_rate]; the result is cropped or zero-padded back to the input length."""

    name: ClassVar[str] = "time_stretch"

    def __init__(self, min_rate: float = 0.9, max_rate: float = 1.1, p: float = 0.5):
        super().__init__(p)
        check_range("stretch rate", min_rate, max_rate, lo=0.5, hi=2.0)
        self.min_rate, self.max_rate = min_rate, max_rate
        # Signalsmith Stretch: ~6 ms for 3 s at 16 kHz, vs ~1 s for librosa's phase vocoder.
        self._inner = am.TimeStretch(
            min_rate=min_rate,
            max_rate=max_rate,
            leave_length_unchanged=True,
            method="signalsmith_stretch",
            p=1.0,
        )

    def randomize_parameters(self, rng: np.random.Generator, y: np.ndarray, sr: int) -> None:
        self.parameters["rate"] = float(rng.uniform(self.min_rate, self.max_rate))

    def apply(self, y: np.ndarray, sr: int) -> np.ndarray:
        return _run_frozen(self._inner, {"rate": self.parameters["rate"]}, y, sr)


class PitchShift(Transform):
    """Shift the pitch by a number of semitones drawn in [min_semitones, max_semitones],
    keeping the duration."""

    name: ClassVar[str] = "pitch_shift"

    def __init__(self, min_semitones: float = -2.0, max_semitones: float = 2.0, p: float = 0.5):
        super().__init__(p)
        check_range("semitones", min_semitones, max_semitones, lo=-24.0, hi=24.0)
        self.min_semitones, self.max_semitones = min_semitones, max_semitones
        self._inner = am.PitchShift(
            min_semitones=min_semitones,
            max_semitones=max_semitones,
            method="signalsmith_stretch",
            p=1.0,
        )

    def randomize_parameters(self, rng: np.random.Generator, y: np.ndarray, sr: int) -> None:
        semitones = float(rng.uniform(self.min_semitones, self.max_semitones))
        self.parameters["num_semitones"] = semitones

    def apply(self, y: np.ndarray, sr: int) -> np.ndarray:
        return _run_frozen(self._inner, {"num_semitones": self.parameters["num_semitones"]}, y, sr)


class NoiseFolderError(ValueError):
    """The background-noise folder is missing, empty, or holds no readable audio."""


class BackgroundNoise(Transform):
    """Mix in a random stretch of a random file from ``noise_dir`` at an SNR drawn in
    [min_snr_db, max_snr_db].

    The folder is scanned once; files are decoded (through the feature cache) on the
    first call at a sample rate and kept in memory. Our own rather than audiomentations'
    AddBackgroundNoise, which picks files and offsets from global random state and decodes
    with its own loader instead of the cache.
    """

    name: ClassVar[str] = "background_noise"

    def __init__(
        self,
        noise_dir: str | os.PathLike[str],
        min_snr_db: float = 5.0,
        max_snr_db: float = 25.0,
        p: float = 0.5,
        cache: FeatureCache | None = None,
    ):
        super().__init__(p)
        check_range("SNR dB", min_snr_db, max_snr_db, lo=-20.0, hi=100.0)
        self.noise_dir = Path(noise_dir)
        self.min_snr_db, self.max_snr_db = min_snr_db, max_snr_db
        if not self.noise_dir.is_dir():
            raise NoiseFolderError(
                f"{self.noise_dir}: background-noise folder not found; "
                "pass an existing folder of noise recordings (noise_dir)"
            )
        self.files = sorted(
            f
            for f in self.noise_dir.rglob("*")
            if f.is_file() and f.suffix.lower() in AUDIO_SUFFIXES
        )
        if not self.files:
            raise NoiseFolderError(
                f"{self.noise_dir}: no audio files ({', '.join(sorted(AUDIO_SUFFIXES))}); "
                "put some noise recordings in it or drop background_noise"
            )
        self._cache = cache
        self._decoded: dict[int, list[np.ndarray]] = {}

    def noises(self, sr: int) -> list[np.ndarray]:
        """The readable noise recordings at ``sr`` (decoded on first use, then kept)."""
        if sr not in self._decoded:
            cache = self._cache or FeatureCache()
            kept: list[np.ndarray] = []
            for file in self.files:
                try:
                    wave = cache.load(file, sr)
                except AudioError:
                    continue
                if rms(wave) > 0:
                    kept.append(wave)
            if not kept:
                raise NoiseFolderError(
                    f"{self.noise_dir}: none of its {len(self.files)} audio files could be "
                    "decoded or all are silent; replace them with readable noise recordings"
                )
            self._decoded[sr] = kept
        return self._decoded[sr]

    def randomize_parameters(self, rng: np.random.Generator, y: np.ndarray, sr: int) -> None:
        self.parameters["file_index"] = int(rng.integers(len(self.noises(sr))))
        self.parameters["snr_db"] = float(rng.uniform(self.min_snr_db, self.max_snr_db))
        self.parameters["offset"] = float(rng.random())

    def apply(self, y: np.ndarray, sr: int) -> np.ndarray:
        noise = self.noises(sr)[self.parameters["file_index"]]
        if len(noise) < len(y):
            noise = np.tile(noise, -(-len(y) // len(noise)))
        start = int(self.parameters["offset"] * (len(noise) - len(y) + 1))
        start = min(start, len(noise) - len(y))
        return mix_at_snr(y, noise[start : start + len(y)], self.parameters["snr_db"])

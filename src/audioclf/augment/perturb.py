"""Controlled corruptions of test clips, for scoring a model where users record.

A perturbation is written as a SPEC: comma-separated steps, applied in the order given.

- ``noise=white|pink|brown|babble|DIR,snr=DB`` — additive noise at exactly ``DB`` dB SNR:
  coloured Gaussian noise, babble (the sum of ``talkers=N`` clips of other speakers —
  from the set itself or a pool of speech given, :class:`TalkerPool`; default 4), or a
  random stretch of a random recording from the folder ``DIR``;
- ``reverb=RT60`` — the clip convolved with a synthetic room of that reverberation time
  in seconds (:func:`audioclf.augment.reverb.synthetic_rir`), fully wet, at the dry RMS;
- ``telephone`` — a narrow-band phone line: 300–3400 Hz, 8 kHz, 8-bit μ-law;
- ``opus=12k`` / ``mp3=32k`` — a round trip through the codec at that bit rate (PyAV's
  libopus and LAME encoders, decoded back with the clip loader);
- ``gain=DB`` — louder or quieter, samples beyond ±1 clipped as an ADC would;
- ``clip=LEVEL`` — hard clipping at ``LEVEL`` (0–1) times the clip's peak.

Each clip's randomness comes from the seed and the clip's id, so a perturbed set is the
same whatever the order or the batch it is scored in. The noise mixing and the room come
from :mod:`audioclf.augment.waveform` and :mod:`audioclf.augment.reverb`, as training's
augmentations do.
"""

from __future__ import annotations

import io
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import soxr
from scipy.signal import butter, fftconvolve, sosfiltfilt

from audioclf.audio import AudioError, load
from audioclf.augment.base import fit_length, rms
from audioclf.augment.reverb import synthetic_rir
from audioclf.augment.waveform import BackgroundNoise, colored_noise, mix_at_snr

COLOURS = {"white": 0.0, "pink": -3.0, "brown": -6.0}
"""Noise colours: power slope in dB per octave."""
CODECS = {"opus": ("libopus", "ogg", 48_000), "mp3": ("libmp3lame", "mp3", None)}
"""Codec name → PyAV encoder, container and the rate it encodes at (None: the clip's)."""
TELEPHONE_RATE = 8_000
TELEPHONE_BAND = (300.0, 3400.0)
MU = 255.0
DEFAULT_TALKERS = 4
SNR_RANGE = (-20.0, 60.0)
BITRATE_RANGE = (6_000, 320_000)


class PerturbSpecError(ValueError):
    """A SPEC that cannot be parsed; the message says what a valid one looks like."""


@dataclass(frozen=True)
class Step:
    """One corruption: its kind and parameters."""

    kind: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Perturbation:
    """A parsed SPEC: the text it came from and its steps, in order."""

    spec: str
    steps: tuple[Step, ...]

    @property
    def snr(self) -> float | None:
        """The SNR of its noise step, if any (the x axis of accuracy-versus-SNR)."""
        for step in self.steps:
            if step.kind == "noise":
                return float(step.params["snr"])
        return None

    @property
    def babbles(self) -> bool:
        """Whether a step adds babble (and so needs talkers)."""
        return any(
            step.kind == "noise" and step.params["source"] == "babble" for step in self.steps
        )

    @property
    def family(self) -> str:
        """The SPEC without its SNR: perturbations that differ only in SNR share it."""
        parts = [p for p in self.spec.split(",") if not p.startswith("snr=")]
        return ",".join(parts)


# ------------------------------------------------------------------------------ parsing


def parse_perturbation(text: str) -> Perturbation:
    """Parse a SPEC (see the module docstring); raises :class:`PerturbSpecError`."""
    pairs = _pairs(text)  # refuses a key given twice
    given = dict(pairs)
    steps = [
        _step(key, value, given, text) for key, value in pairs if key not in ("snr", "talkers")
    ]
    if not steps:
        raise PerturbSpecError(f"{text!r}: no perturbation; {_HELP}")
    for key in ("snr", "talkers"):
        if key in given and "noise" not in given:
            raise PerturbSpecError(f"{text!r}: {key}= belongs to a noise= step")
    canonical = ",".join(f"{k}={v}" if v is not None else k for k, v in pairs)
    return Perturbation(canonical, tuple(steps))


_HELP = (
    "write e.g. noise=pink,snr=10 · noise=babble,snr=5 · noise=DIR,snr=0 · reverb=0.6 · "
    "telephone · opus=12k · mp3=32k · gain=-20 · clip=0.3"
)


def _pairs(text: str) -> list[tuple[str, str | None]]:
    pairs: list[tuple[str, str | None]] = []
    for part in text.split(","):
        part = part.strip()
        if not part:
            raise PerturbSpecError(f"{text!r}: empty step; {_HELP}")
        key, sep, value = part.partition("=")
        key = key.strip().lower()
        pairs.append((key, value.strip() if sep else None))
    keys = [k for k, _ in pairs]
    if len(set(keys)) != len(keys):
        repeated = sorted({k for k in keys if keys.count(k) > 1})
        raise PerturbSpecError(f"{text!r}: {', '.join(repeated)} given twice")
    return pairs


def _step(key: str, value: str | None, pairs: dict[str, str | None], text: str) -> Step:
    if key == "telephone":
        if value is not None:
            raise PerturbSpecError(f"{text!r}: telephone takes no value")
        return Step("telephone")
    if value is None or value == "":
        raise PerturbSpecError(f"{text!r}: {key} needs a value; {_HELP}")
    if key == "noise":
        return _noise_step(value, pairs, text)
    if key == "reverb":
        return Step("reverb", {"rt60": _number(value, "reverb (RT60 s)", 0.05, 3.0, text)})
    if key in CODECS:
        return Step("codec", {"codec": key, "bitrate": _bitrate(value, text)})
    if key == "gain":
        return Step("gain", {"db": _number(value, "gain (dB)", -60.0, 40.0, text)})
    if key == "clip":
        return Step("clip", {"level": _number(value, "clip (fraction of peak)", 0.01, 1.0, text)})
    raise PerturbSpecError(f"{text!r}: unknown step {key!r}; {_HELP}")


def _noise_step(value: str, pairs: dict[str, str | None], text: str) -> Step:
    snr_text = pairs.get("snr")
    if snr_text is None:
        raise PerturbSpecError(f"{text!r}: noise= needs snr=DB (e.g. noise={value},snr=10)")
    snr = _number(snr_text, "snr (dB)", *SNR_RANGE, text)
    source = value.lower()
    params: dict[str, Any] = {"snr": snr}
    if source in COLOURS or source == "babble":
        params["source"] = source
    elif Path(value).is_dir():
        params["source"] = "folder"
        params["folder"] = value
    else:
        raise PerturbSpecError(
            f"{text!r}: noise={value} is neither white, pink, brown, babble nor an existing "
            "folder of noise recordings"
        )
    talkers = pairs.get("talkers")
    if talkers is not None:
        if source != "babble":
            raise PerturbSpecError(f"{text!r}: talkers= is for noise=babble")
        params["talkers"] = int(_number(talkers, "talkers", 1, 32, text))
    elif source == "babble":
        params["talkers"] = DEFAULT_TALKERS
    return Step("noise", params)


def _number(value: str | None, name: str, low: float, high: float, text: str) -> float:
    try:
        number = float(value or "")
    except ValueError:
        raise PerturbSpecError(f"{text!r}: {name} must be a number, not {value!r}") from None
    if not low <= number <= high:
        raise PerturbSpecError(f"{text!r}: {name} {number:g} is outside [{low:g}, {high:g}]")
    return number


def _bitrate(value: str, text: str) -> int:
    scale = 1000 if value.lower().endswith("k") else 1
    number = _number(value.rstrip("kK"), "bit rate", 0, 1e9, text) * scale
    low, high = BITRATE_RANGE
    if not low <= number <= high:
        raise PerturbSpecError(
            f"{text!r}: bit rate {number:g} b/s is outside [{low // 1000}k, {high // 1000}k]"
        )
    return int(number)


# ------------------------------------------------------------------------------ applying


def perturb_clips(
    perturbation: Perturbation,
    waves: Sequence[np.ndarray],
    sample_rate: int,
    *,
    ids: Sequence[str],
    speakers: Sequence[str | None] | None = None,
    seed: int = 0,
    talkers: TalkerPool | None = None,
) -> list[np.ndarray]:
    """Every clip of ``waves`` under ``perturbation``, each the length it was. Babble is
    made from ``talkers`` (default: the clips themselves), never from the clip itself nor,
    when speakers are known, from its own speaker."""
    speakers = list(speakers) if speakers is not None else [None] * len(waves)
    pool = talkers if talkers is not None else TalkerPool(waves, speakers, ids)
    folders = _noise_folders(perturbation)
    out = []
    for y, clip_id, speaker in zip(waves, ids, speakers, strict=True):
        rng = np.random.default_rng([seed, zlib.crc32(clip_id.encode())])
        voices = _Voices(pool, clip_id, speaker)
        out.append(
            _apply(perturbation, np.asarray(y, np.float32), sample_rate, rng, voices, folders)
        )
    return out


@dataclass(frozen=True)
class TalkerPool:
    """The clips babble is made from: their samples, speakers (None: unknown) and ids."""

    waves: Sequence[np.ndarray]
    speakers: Sequence[str | None]
    ids: Sequence[str]

    @cached_property
    def audible(self) -> list[int]:
        """Indices of the clips that are not silent, in the order of their ids (so that
        the pool's order does not change a draw); found once per pool, not per clip."""
        loud = (i for i, wave in enumerate(self.waves) if rms(wave) > 0)
        return sorted(loud, key=lambda i: self.ids[i])


@dataclass(frozen=True)
class _Voices:
    """The talkers one clip's babble may use: the pool without the clip and its speaker
    (picked in the order of their ids, so that the set's order does not change the draw)."""

    pool: TalkerPool
    clip_id: str
    speaker: str | None

    def talkers(self, n: int, rng: np.random.Generator) -> list[np.ndarray]:
        pool = self.pool
        others = [
            i
            for i in pool.audible
            if pool.ids[i] != self.clip_id
            and (self.speaker is None or pool.speakers[i] != self.speaker)
        ]
        if not others:
            raise PerturbSpecError(
                "noise=babble needs clips of other speakers to make babble from: the scored "
                "clips have none; give a manifest of other speech (audioclf evaluate --babble M)"
            )
        picked = rng.choice(len(others), size=min(n, len(others)), replace=False)
        return [np.asarray(pool.waves[others[int(i)]], np.float32) for i in picked]


def _noise_folders(perturbation: Perturbation) -> dict[str, BackgroundNoise]:
    return {
        step.params["folder"]: BackgroundNoise(
            step.params["folder"],
            min_snr_db=step.params["snr"],
            max_snr_db=step.params["snr"],
            p=1.0,
        )
        for step in perturbation.steps
        if step.kind == "noise" and step.params["source"] == "folder"
    }


def _apply(
    perturbation: Perturbation,
    y: np.ndarray,
    sr: int,
    rng: np.random.Generator,
    pool: _Voices,
    folders: dict[str, BackgroundNoise],
) -> np.ndarray:
    for step in perturbation.steps:
        if step.kind == "noise":
            y = _add_noise(y, sr, step.params, rng, pool, folders)
        elif step.kind == "reverb":
            y = reverberate(y, sr, step.params["rt60"], rng)
        elif step.kind == "telephone":
            y = telephone(y, sr)
        elif step.kind == "codec":
            y = codec_round_trip(y, sr, step.params["codec"], step.params["bitrate"])
        elif step.kind == "gain":
            y = np.clip(y * 10.0 ** (step.params["db"] / 20.0), -1.0, 1.0)
        elif step.kind == "clip":
            limit = step.params["level"] * float(np.max(np.abs(y), initial=0.0))
            y = np.clip(y, -limit, limit)
    return np.asarray(y, dtype=np.float32)


def _add_noise(
    y: np.ndarray,
    sr: int,
    params: dict[str, Any],
    rng: np.random.Generator,
    pool: _Voices,
    folders: dict[str, BackgroundNoise],
) -> np.ndarray:
    source, snr = params["source"], params["snr"]
    if source in COLOURS:
        return mix_at_snr(y, colored_noise(len(y), sr, COLOURS[source], rng), snr)
    if source == "babble":
        return mix_at_snr(y, babble(pool.talkers(params["talkers"], rng), len(y), rng), snr)
    noise = folders[params["folder"]]  # built at this step's SNR
    noise.randomize_parameters(rng, y, sr)
    return noise.apply(y, sr)


def babble(talkers: Sequence[np.ndarray], n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` samples of several talkers at once: each clip looped to length from a random
    offset, at unit RMS, summed."""
    total = np.zeros(n, dtype=np.float32)
    for talker in talkers:
        looped = np.tile(talker, -(-n // len(talker)) + 1)
        start = int(rng.integers(len(talker)))
        part = looped[start : start + n]
        level = rms(part)
        if level > 0:
            total += part / level
    return total


def reverberate(y: np.ndarray, sr: int, rt60: float, rng: np.random.Generator) -> np.ndarray:
    """``y`` in a synthetic room of reverberation time ``rt60`` s, at its dry RMS."""
    wet = fftconvolve(y, synthetic_rir(sr, rt60, rng))[: len(y)]
    dry_level, wet_level = rms(y), rms(wet)
    if wet_level == 0.0:
        return y
    return (wet * (dry_level / wet_level)).astype(np.float32)


def telephone(y: np.ndarray, sr: int) -> np.ndarray:
    """``y`` as a narrow-band phone line carries it: band-passed to 300–3400 Hz,
    sampled at 8 kHz, companded to 8-bit μ-law and back, at ``sr`` again."""
    narrow = soxr.resample(y, sr, TELEPHONE_RATE) if sr != TELEPHONE_RATE else y
    sos = butter(4, TELEPHONE_BAND, btype="bandpass", fs=TELEPHONE_RATE, output="sos")
    if len(narrow) > 27:  # sosfiltfilt's padding needs a few samples
        narrow = sosfiltfilt(sos, narrow)
    x = np.clip(narrow, -1.0, 1.0)
    companded = np.sign(x) * np.log1p(MU * np.abs(x)) / np.log1p(MU)
    levels = np.round((companded + 1.0) / 2.0 * 255.0) / 255.0 * 2.0 - 1.0
    expanded = np.sign(levels) * np.expm1(np.abs(levels) * np.log1p(MU)) / MU
    back = soxr.resample(expanded, TELEPHONE_RATE, sr) if sr != TELEPHONE_RATE else expanded
    return fit_length(np.asarray(back, dtype=np.float32), len(y))


def codec_round_trip(y: np.ndarray, sr: int, codec: str, bitrate: int) -> np.ndarray:
    """``y`` encoded with ``codec`` (``opus`` or ``mp3``) at ``bitrate`` b/s and decoded
    back at ``sr``, the length it was."""
    import av

    encoder, container, rate = CODECS[codec]
    buffer = io.BytesIO()
    with av.open(buffer, "w", format=container) as out:
        stream = out.add_stream(encoder, rate=rate or sr, layout="mono")
        assert isinstance(stream, av.AudioStream)
        stream.bit_rate = bitrate
        frame = av.AudioFrame.from_ndarray(
            np.clip(y, -1.0, 1.0)[None].astype(np.float32), format="flt", layout="mono"
        )
        frame.sample_rate = sr
        context = stream.codec_context
        resampler = av.AudioResampler(
            format=context.format.name, layout="mono", rate=context.sample_rate
        )
        for part in [*resampler.resample(frame), *resampler.resample(None)]:
            for packet in stream.encode(part):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    try:
        decoded = load(buffer.getvalue(), sr, name=f"{codec} round trip")
    except AudioError as err:
        raise PerturbSpecError(f"{codec} at {bitrate} b/s produced no audio: {err}") from err
    return fit_length(decoded, len(y))

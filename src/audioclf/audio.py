"""Audio loading: bytes or a path in, mono float32 at a requested sample rate out.

The format is found from the content, never the file name: libsndfile (via soundfile)
reads WAV in all its variants, AIFF, FLAC, OGG/Vorbis, Opus and MP3; PyAV (FFmpeg) is
the fallback for everything else (M4A/AAC, WebM/Opus from browsers, ...). Channels are
averaged and soxr resamples. Every failure is a subclass of :class:`AudioError` whose
message names the source and what is wrong with it.
"""

from __future__ import annotations

import io
import os
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np
import soundfile as sf
import soxr

Source = str | os.PathLike[str] | bytes | bytearray | memoryview | BinaryIO


class AudioError(ValueError):
    """Audio that cannot be used; ``str(err)`` says which source and why."""

    reason = "unreadable audio"

    def __init__(self, source: str, detail: str = "") -> None:
        self.source = source
        self.detail = detail
        message = f"{source}: {self.reason}"
        super().__init__(f"{message} ({detail})" if detail else message)

    def __reduce__(self) -> tuple[type[AudioError], tuple[str, str]]:
        # rebuilt from its parts when it crosses a process boundary (service/decode.py)
        return (type(self), (self.source, self.detail))


class EmptyAudioError(AudioError):
    reason = "the file is empty (0 bytes)"


class NotAudioError(AudioError):
    reason = "not a recognised audio format"


class TruncatedAudioError(AudioError):
    reason = "the audio data is truncated or corrupt"


class ZeroLengthAudioError(AudioError):
    reason = "the file holds no audio samples"


class NonFiniteAudioError(AudioError):
    reason = "the audio contains NaN or infinite samples"


class AudioTooLongError(AudioError):
    reason = "the audio is longer than allowed"


@dataclass(frozen=True)
class AudioInfo:
    """What a file holds, read without resampling."""

    sample_rate: int
    channels: int
    frames: int
    format: str

    @property
    def duration(self) -> float:
        return self.frames / self.sample_rate if self.sample_rate else 0.0


@dataclass(frozen=True)
class Audio:
    """Decoded audio: mono float32 ``samples`` at ``sample_rate``, and what it was."""

    samples: np.ndarray
    sample_rate: int
    original: AudioInfo

    @property
    def duration(self) -> float:
        return len(self.samples) / self.sample_rate


def _name(source: Source, name: str | None) -> str:
    if name:
        return name
    if isinstance(source, str | os.PathLike):
        return os.fspath(source)
    return "<audio bytes>"


def _read_bytes(source: Source, name: str) -> bytes:
    if isinstance(source, bytes):
        return source
    if isinstance(source, bytearray | memoryview):
        return bytes(source)
    if isinstance(source, str | os.PathLike):
        path = Path(source)
        if not path.is_file():
            raise AudioError(name, "no such file")
        return path.read_bytes()
    return source.read()


def _check_riff_truncation(data: bytes, name: str) -> None:
    """A WAV whose data chunk claims more bytes than the file has is truncated.

    libsndfile silently reads what is there, so this is checked from the header.
    """
    if len(data) < 12 or data[:4] not in (b"RIFF", b"RIFX") or data[8:12] != b"WAVE":
        return
    endian = "<" if data[:4] == b"RIFF" else ">"
    pos = 12
    while pos + 8 <= len(data):
        chunk_id = data[pos : pos + 4]
        (size,) = struct.unpack(endian + "I", data[pos + 4 : pos + 8])
        if chunk_id == b"data":
            available = len(data) - pos - 8
            # 0 and 0xFFFFFFFF are used by streaming writers for "unknown size".
            if size not in (0, 0xFFFFFFFF) and available < size:
                raise TruncatedAudioError(
                    name, f"header announces {size} data bytes, only {available} present"
                )
            return
        pos += 8 + size + (size & 1)
    if pos < len(data) or len(data) < 44:
        raise TruncatedAudioError(name, "WAV header without a data chunk")


def _decode_soundfile(
    data: bytes, name: str, max_seconds: float | None = None
) -> tuple[np.ndarray, AudioInfo] | None:
    """Decode with libsndfile; None when libsndfile does not know the format.

    The duration limit is checked on the header *before* decoding: a few hundred
    kilobytes of FLAC silence can announce hours of audio (gigabytes once decoded)."""
    try:
        with sf.SoundFile(io.BytesIO(data)) as f:
            info = AudioInfo(f.samplerate, f.channels, f.frames, f.format)
            if max_seconds is not None and info.duration > max_seconds:
                raise AudioTooLongError(name, f"{info.duration:.1f} s > limit {max_seconds:g} s")
            samples = f.read(dtype="float32", always_2d=True)
    except sf.LibsndfileError as exc:
        text = str(exc).lower()
        if "format not recognised" in text or "unknown format" in text or "unimplemented" in text:
            return None
        if "truncat" in text or "corrupt" in text or "unexpected end" in text:
            raise TruncatedAudioError(name, str(exc)) from exc
        return None
    except (RuntimeError, TypeError) as exc:  # libsndfile failed mid-stream
        raise TruncatedAudioError(name, str(exc)) from exc
    # libsndfile returns what it could read; fewer frames than the header announces
    # (allowing one MP3 frame of encoder padding) means the stream was cut.
    if info.frames > 0 and len(samples) < info.frames - 1152:
        raise TruncatedAudioError(
            name, f"header announces {info.frames} frames, only {len(samples)} decoded"
        )
    return samples, info


def _decode_pyav(
    data: bytes, name: str, max_seconds: float | None
) -> tuple[np.ndarray, AudioInfo] | None:
    """Decode with FFmpeg through PyAV; None when FFmpeg finds no audio stream."""
    import av

    try:
        container = av.open(io.BytesIO(data), mode="r", metadata_errors="ignore")
    except (av.FFmpegError, ValueError, IndexError):
        return None
    with container:
        streams = container.streams.audio
        if not streams:
            return None
        stream = streams[0]
        if stream.codec_context is None:
            raise NotAudioError(name, "FFmpeg has no decoder for its audio stream")
        rate = int(stream.rate or stream.codec_context.sample_rate or 0)
        channels = int(stream.codec_context.channels or 0)
        fmt = (container.format.name or "ffmpeg").split(",")[0].upper()
        if max_seconds is not None and container.duration:
            seconds = container.duration / 1_000_000
            if seconds > max_seconds:
                raise AudioTooLongError(name, f"{seconds:.1f} s > limit {max_seconds:g} s")
        resampler = av.AudioResampler(format="fltp")
        chunks: list[np.ndarray] = []
        decoded = 0
        try:
            for frame in container.decode(stream):
                for out in resampler.resample(frame):
                    array = out.to_ndarray().astype(np.float32, copy=False)
                    channels = channels or array.shape[0]
                    rate = rate or int(out.sample_rate)
                    chunks.append(array.mean(axis=0) if array.shape[0] > 1 else array[0])
                    decoded += array.shape[1]
                if max_seconds is not None and rate and decoded / rate > max_seconds:
                    raise AudioTooLongError(name, f"more than {max_seconds:g} s")
        except av.FFmpegError as exc:
            if not chunks:
                raise TruncatedAudioError(name, str(exc)) from exc
            raise TruncatedAudioError(name, f"decoding stopped after {decoded} samples") from exc
    if not rate:
        raise NotAudioError(name, "FFmpeg found an audio stream without a sample rate")
    mono = np.concatenate(chunks) if chunks else np.zeros(0, np.float32)
    return mono[:, None], AudioInfo(rate, max(channels, 1), len(mono), fmt)


def decode(
    source: Source, *, max_seconds: float | None = None, name: str | None = None
) -> tuple[np.ndarray, AudioInfo]:
    """Decode to (frames, channels) float32 at the native rate — no checks on content.

    Prefer :func:`load`, which also checks the samples and resamples.
    """
    label = _name(source, name)
    data = _read_bytes(source, label)
    if not data:
        raise EmptyAudioError(label)
    _check_riff_truncation(data, label)
    decoded = _decode_soundfile(data, label, max_seconds)
    if decoded is None:
        decoded = _decode_pyav(data, label, max_seconds)
    if decoded is None:
        raise NotAudioError(label, f"first bytes {data[:12]!r}")
    return decoded


def load_audio(
    source: Source,
    sample_rate: int | None = 16_000,
    *,
    max_seconds: float | None = None,
    name: str | None = None,
) -> Audio:
    """Load ``source`` as mono float32 at ``sample_rate`` (None keeps the native rate).

    Raises an :class:`AudioError` subclass for empty, unknown, truncated, silent-by-
    construction (zero samples), non-finite or too-long audio.
    """
    label = _name(source, name)
    samples, info = decode(source, max_seconds=max_seconds, name=label)
    if samples.shape[0] == 0:
        raise ZeroLengthAudioError(label)
    # the channel mean in float64: in float32 the sum of two large finite samples is inf
    mono = samples.mean(axis=1, dtype=np.float64) if samples.shape[1] > 1 else samples[:, 0]
    mono = np.ascontiguousarray(mono, dtype=np.float32)
    if not np.isfinite(mono).all():
        bad = int((~np.isfinite(mono)).sum())
        raise NonFiniteAudioError(label, f"{bad} of {len(mono)} samples")
    rate = sample_rate or info.sample_rate
    if rate != info.sample_rate:
        mono = _resample(mono, info.sample_rate, rate, label)
    return Audio(mono, rate, info)


def _resample(mono: np.ndarray, native: int, rate: int, label: str) -> np.ndarray:
    """``mono`` resampled from ``native`` to ``rate`` Hz, refusing a result that is
    empty (too few samples for one at ``rate``) or not finite (samples so large that
    the filter overflows float32)."""
    out = soxr.resample(mono, native, rate, quality="HQ").astype(np.float32)
    if not len(out):
        raise ZeroLengthAudioError(
            label, f"{len(mono)} samples at {native} Hz are less than one at {rate} Hz"
        )
    if not np.isfinite(out).all():
        raise NonFiniteAudioError(label, f"sample values too large to resample to {rate} Hz")
    return out


def load(
    source: Source,
    sample_rate: int | None = 16_000,
    *,
    max_seconds: float | None = None,
    name: str | None = None,
) -> np.ndarray:
    """Load ``source`` as a mono float32 array at ``sample_rate``; see :func:`load_audio`."""
    return load_audio(source, sample_rate, max_seconds=max_seconds, name=name).samples


def probe(source: Source, *, name: str | None = None) -> AudioInfo:
    """Sample rate, channels, frames and format, reading the whole file to verify it."""
    return load_audio(source, None, name=name).original

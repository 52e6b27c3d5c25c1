"""Write the same test signal in every container/codec audioclf must read."""

from __future__ import annotations

import io
from fractions import Fraction
from typing import cast

import av
import numpy as np
import soundfile as sf


def write_soundfile(y: np.ndarray, sr: int, fmt: str, subtype: str | None = None) -> bytes:
    """Encode with libsndfile (y: frames or frames x channels)."""
    buf = io.BytesIO()
    sf.write(buf, y, sr, format=fmt, subtype=subtype)
    return buf.getvalue()


def write_pyav(y: np.ndarray, sr: int, container: str, codec: str) -> bytes:
    """Encode with FFmpeg (mono or stereo float input)."""
    frames = y if y.ndim == 2 else y[:, None]
    layout = "mono" if frames.shape[1] == 1 else "stereo"
    buf = io.BytesIO()
    with av.open(buf, mode="w", format=container) as out:
        stream = cast(av.AudioStream, out.add_stream(codec, rate=sr, layout=layout))
        planar = np.ascontiguousarray(frames.T.astype(np.float32))
        step = stream.codec_context.frame_size or 1024
        for start in range(0, planar.shape[1], step):
            chunk = np.ascontiguousarray(planar[:, start : start + step])
            frame = av.AudioFrame.from_ndarray(chunk, format="fltp", layout=layout)
            frame.sample_rate = sr
            frame.pts = start
            frame.time_base = Fraction(1, sr)
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return buf.getvalue()


# name -> (encoder, args). Lossy codecs get looser tolerances in the tests.
FORMATS: dict[str, tuple[str, ...]] = {
    "wav-pcm8": ("sf", "WAV", "PCM_U8"),
    "wav-pcm16": ("sf", "WAV", "PCM_16"),
    "wav-pcm24": ("sf", "WAV", "PCM_24"),
    "wav-pcm32": ("sf", "WAV", "PCM_32"),
    "wav-float32": ("sf", "WAV", "FLOAT"),
    "wav-extensible": ("sf", "WAVEX", "PCM_16"),
    "flac": ("sf", "FLAC", "PCM_16"),
    "ogg-vorbis": ("sf", "OGG", "VORBIS"),
    "ogg-opus": ("sf", "OGG", "OPUS"),
    "mp3": ("sf", "MP3", "MPEG_LAYER_III"),
    "aiff": ("sf", "AIFF", "PCM_16"),
    "m4a-aac": ("av", "ipod", "aac"),
    "webm-opus": ("av", "webm", "libopus"),
}
LOSSY = {"ogg-vorbis", "ogg-opus", "mp3", "m4a-aac", "webm-opus", "wav-pcm8"}


def encode(name: str, y: np.ndarray, sr: int) -> bytes:
    kind, *args = FORMATS[name]
    if kind == "sf":
        return write_soundfile(y, sr, args[0], args[1])
    return write_pyav(y, sr, args[0], args[1])

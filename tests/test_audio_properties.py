"""Property-based tests of audioclf.audio: whatever the bytes, the loader gives finite mono
float32 samples within the duration limit, or an :class:`AudioError` that says why.

The inputs: arbitrary bytes; files written by libsndfile and FFmpeg from random samples
(whole, truncated, with bytes overwritten or inserted, with a RIFF size rewritten);
WAV files built chunk by chunk with random header fields and chunk sizes; FLAC files
with a random STREAMINFO header and a random body.
"""

from __future__ import annotations

import io
import math
import struct

import numpy as np
import soundfile as sf
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from audioclf.audio import AudioError, load, load_audio
from tests.audio_factory import write_pyav

MAX_SECONDS = 0.5
RATES = (8_000, 16_000, 22_050, 44_100, 48_000)
PROPERTY = settings(
    max_examples=120,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

SOUNDFILE_FORMATS = (
    ("WAV", "PCM_16"),
    ("WAV", "PCM_U8"),
    ("WAV", "PCM_24"),
    ("WAV", "FLOAT"),
    ("WAV", "DOUBLE"),
    ("WAV", "ULAW"),
    ("WAVEX", "FLOAT"),
    ("FLAC", "PCM_16"),
    ("FLAC", "PCM_24"),
    ("AIFF", "PCM_16"),
    ("AIFF", "FLOAT"),
    ("OGG", "VORBIS"),
    ("MP3", "MPEG_LAYER_III"),
)
LOSSLESS = [f for f in SOUNDFILE_FORMATS if f[1] in ("PCM_16", "PCM_24", "FLOAT", "DOUBLE")]
FLOAT_SUBTYPES = ("FLOAT", "DOUBLE")
FFMPEG_FORMATS = (("ipod", "aac"), ("webm", "libopus"), ("adts", "aac"), ("ogg", "flac"))

U32 = st.integers(0, 2**32 - 1) | st.sampled_from([0, 1, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF])
U16 = st.integers(0, 2**16 - 1)


def write_soundfile(y: np.ndarray, sr: int, fmt: str, subtype: str) -> bytes:
    buffer = io.BytesIO()
    sf.write(buffer, y, sr, format=fmt, subtype=subtype)
    return buffer.getvalue()


def loads_or_refuses(data: bytes, sample_rate: int | None) -> np.ndarray | None:
    """The loader's answer, checked: samples that are usable, or an AudioError with a
    message naming the source; any other exception fails the test."""
    try:
        y = load(data, sample_rate, max_seconds=MAX_SECONDS)
    except AudioError as err:
        assert str(err).startswith("<audio bytes>: ") and err.reason in str(err)
        return None
    assert isinstance(y, np.ndarray) and y.dtype == np.float32 and y.ndim == 1
    assert len(y) > 0
    assert np.isfinite(y).all()
    if sample_rate is not None:
        assert len(y) <= math.ceil(MAX_SECONDS * sample_rate) + 1
    return y


@st.composite
def samples(draw: st.DrawFn, subtype: str = "PCM_16") -> np.ndarray:
    """Random (frames, channels) float32 samples: within [-1, 1], or for float files
    any finite magnitude up to the float32 maximum."""
    frames = draw(st.integers(1, 4_000))
    channels = draw(st.integers(1, 2))
    scale = 1.0
    if subtype in FLOAT_SUBTYPES:
        scale = draw(st.sampled_from([1.0, 1e20, 3.4e38]))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    return (rng.uniform(-1, 1, (frames, channels)) * scale).astype(np.float32)


@st.composite
def sound_files(
    draw: st.DrawFn, formats: tuple[tuple[str, str], ...] | list[tuple[str, str]]
) -> tuple[bytes, np.ndarray, int]:
    """(encoded bytes, the samples written, their rate) for a libsndfile format."""
    fmt, subtype = draw(st.sampled_from(formats))
    sr = draw(st.sampled_from(RATES))
    y = draw(samples(subtype))
    return write_soundfile(y, sr, fmt, subtype), y, sr


@st.composite
def ffmpeg_files(draw: st.DrawFn) -> bytes:
    """An AAC, Opus or FLAC stream muxed by FFmpeg (M4A, WebM, ADTS, Ogg)."""
    container, codec = draw(st.sampled_from(FFMPEG_FORMATS))
    sr = 48_000 if codec == "libopus" else draw(st.sampled_from(RATES))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    y = rng.uniform(-1, 1, draw(st.integers(1, 6_000))).astype(np.float32)
    return write_pyav(y, sr, container, codec)


@st.composite
def damaged(draw: st.DrawFn, files: st.SearchStrategy[bytes]) -> bytes:
    """A valid file cut short, with bytes overwritten or inserted, or a RIFF size rewritten."""
    data = bytearray(draw(files))
    how = draw(st.sampled_from(["truncate", "overwrite", "insert", "size"]))
    if how == "truncate":
        return bytes(data[: draw(st.integers(0, len(data)))])
    if how == "overwrite":
        for _ in range(draw(st.integers(1, 8))):
            at = draw(st.integers(0, min(len(data), 256) - 1))  # the headers are up front
            data[at] = draw(st.integers(0, 255))
        return bytes(data)
    if how == "insert":
        at = draw(st.integers(0, len(data)))
        return bytes(data[:at] + draw(st.binary(min_size=1, max_size=64)) + data[at:])
    at = draw(st.sampled_from([4, 16, 40, 44, 48, 72]) | st.integers(0, len(data) - 4))
    data[at : at + 4] = struct.pack("<I", draw(U32))
    return bytes(data)


def _mostly(valid: st.SearchStrategy[int], other: st.SearchStrategy[int]) -> st.SearchStrategy[int]:
    return st.one_of(valid, valid, valid, other)


@st.composite
def riff_wavs(draw: st.DrawFn) -> bytes:
    """A WAV built chunk by chunk: each header field and chunk size mostly consistent,
    sometimes random; extra chunks in between; a random body."""
    tag, width = draw(st.sampled_from([(1, 1), (1, 2), (1, 3), (1, 4), (3, 4), (3, 8), (6, 1)]))
    channels = draw(_mostly(st.integers(1, 2), U16))
    rate = draw(_mostly(st.sampled_from(RATES), U32))
    align = draw(_mostly(st.just(channels * width % 2**16), U16))
    fmt = struct.pack(
        "<HHIIHH",
        tag,
        channels,
        rate,
        rate * align % 2**32,
        align,
        draw(_mostly(st.just(width * 8), U16)),
    )
    body = draw(st.binary(max_size=4_000))
    if tag == 3 and draw(st.booleans()):  # IEEE floats, NaN and inf included
        values = draw(st.lists(st.floats(width=32 if width == 4 else 64), max_size=500))
        body = np.asarray(values, "<f4" if width == 4 else "<f8").tobytes()
    chunks = [b"fmt " + struct.pack("<I", draw(_mostly(st.just(len(fmt)), U32))) + fmt]
    for _ in range(draw(st.integers(0, 2))):
        extra = draw(st.binary(max_size=64))
        chunk_id = draw(st.sampled_from([b"LIST", b"fact", b"JUNK", b"data", b"fmt "]))
        chunks.append(chunk_id + struct.pack("<I", draw(_mostly(st.just(len(extra)), U32))) + extra)
    chunks.append(b"data" + struct.pack("<I", draw(_mostly(st.just(len(body)), U32))) + body)
    payload = b"WAVE" + b"".join(chunks)
    size = draw(_mostly(st.just(len(payload)), U32))
    return draw(st.sampled_from([b"RIFF", b"RIFX", b"RF64"])) + struct.pack("<I", size) + payload


@st.composite
def flac_headers(draw: st.DrawFn) -> bytes:
    """``fLaC`` and a STREAMINFO block with random rate, channels, depth and length
    (up to 2**36 frames), then random bytes."""
    rate = draw(st.sampled_from(RATES) | st.integers(0, 2**20 - 1))
    channels, depth = draw(st.integers(0, 7)), draw(st.integers(0, 31))
    frames = draw(st.integers(0, 2**36 - 1) | st.sampled_from([0, 1, 4_000, 10**9]))
    fields = (rate << 44) | (channels << 41) | (depth << 36) | frames
    block_sizes = struct.pack(">HH", draw(U16), draw(U16))
    info = block_sizes + draw(st.binary(min_size=6, max_size=6)) + fields.to_bytes(8, "big")
    info += bytes(16)  # the MD5 of the samples; 0 means "not computed"
    last = 0x80 if draw(st.booleans()) else 0
    header = bytes([last]) + len(info).to_bytes(3, "big") + info
    return b"fLaC" + header + draw(st.binary(max_size=3_000))


# A WAV whose PCM "bits per sample" is 0: libsndfile refuses it, FFmpeg opens it with an
# audio stream that has no decoder (no codec context), which raised AttributeError.
NO_DECODER_WAV = (
    b"RIFF&\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00\x01\x00@\x1f\x00\x00\x80>\x00\x00"
    b"\x00\x00\x00\x00data\x02\x00\x00\x00\x87\x11"
)
# Finite float samples so large that resampling overflowed float32 to NaN.
HUGE_FLOATS = write_soundfile(np.full((400, 1), 3e38, np.float32), 16_000, "WAV", "FLOAT")
# Stereo: the float32 channel mean of two such samples was inf, refused as non-finite.
HUGE_STEREO = np.full((200, 2), 3e38, np.float32)
# One sample at 22050 Hz resampled to 8 kHz is no sample at all: an empty array came back.
ONE_SAMPLE = write_soundfile(np.full((1, 1), 0.5, np.float32), 22_050, "WAV", "PCM_16")


@PROPERTY
@given(data=st.binary(max_size=4_096), sample_rate=st.sampled_from([None, *RATES]))
@example(data=NO_DECODER_WAV, sample_rate=16_000)
@example(data=HUGE_FLOATS, sample_rate=44_100)
@example(data=ONE_SAMPLE, sample_rate=8_000)
def test_arbitrary_bytes_load_or_raise_an_audio_error(data: bytes, sample_rate: int | None) -> None:
    loads_or_refuses(data, sample_rate)


@PROPERTY
@given(file=sound_files(SOUNDFILE_FORMATS), sample_rate=st.sampled_from(RATES))
def test_files_of_every_format_load_or_raise_an_audio_error(
    file: tuple[bytes, np.ndarray, int], sample_rate: int
) -> None:
    loads_or_refuses(file[0], sample_rate)


@PROPERTY
@given(file=sound_files(LOSSLESS))
@example(file=(write_soundfile(HUGE_STEREO, 16_000, "WAV", "FLOAT"), HUGE_STEREO, 16_000))
def test_lossless_files_load_at_their_native_rate_as_the_channel_mean(
    file: tuple[bytes, np.ndarray, int],
) -> None:
    data, written, sr = file
    audio = load_audio(data, None)  # finite samples load, however large: no overflow
    y = audio.samples
    assert audio.sample_rate == sr and y.dtype == np.float32 and len(y) == len(written)
    expected = written.astype(np.float64).mean(axis=1)
    scale = max(1.0, float(np.abs(written).max()))
    np.testing.assert_allclose(y, expected, rtol=1e-6, atol=1e-4 * scale)


@PROPERTY
@given(
    data=damaged(sound_files(SOUNDFILE_FORMATS).map(lambda f: f[0])),
    sample_rate=st.sampled_from(RATES),
)
def test_damaged_files_load_or_raise_an_audio_error(data: bytes, sample_rate: int) -> None:
    loads_or_refuses(data, sample_rate)


@settings(PROPERTY, max_examples=60)
@given(data=ffmpeg_files() | damaged(ffmpeg_files()), sample_rate=st.sampled_from(RATES))
def test_ffmpeg_files_whole_or_damaged_load_or_raise_an_audio_error(
    data: bytes, sample_rate: int
) -> None:
    loads_or_refuses(data, sample_rate)


@PROPERTY
@given(data=riff_wavs(), sample_rate=st.sampled_from(RATES))
def test_wavs_with_random_header_fields_and_chunk_sizes_load_or_raise_an_audio_error(
    data: bytes, sample_rate: int
) -> None:
    loads_or_refuses(data, sample_rate)


@PROPERTY
@given(data=flac_headers(), sample_rate=st.sampled_from(RATES))
def test_flac_with_random_stream_info_loads_or_raises_an_audio_error(
    data: bytes, sample_rate: int
) -> None:
    loads_or_refuses(data, sample_rate)

"""audioclf.audio: every format by content, resampling, channels, and every bad input."""

from __future__ import annotations

import io
import struct
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from audioclf.audio import (
    AudioError,
    AudioTooLongError,
    EmptyAudioError,
    NonFiniteAudioError,
    NotAudioError,
    TruncatedAudioError,
    ZeroLengthAudioError,
    load,
    load_audio,
    probe,
)
from tests.audio_factory import FORMATS, LOSSY, encode, write_soundfile
from tests.conftest import hour_of_silence_flac, tone


def dominant_freq(y: np.ndarray, sr: int) -> float:
    spectrum = np.abs(np.fft.rfft(y * np.hanning(len(y))))
    return float(np.fft.rfftfreq(len(y), 1 / sr)[spectrum.argmax()])


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_every_format_decodes_to_mono_float32_at_requested_rate(fmt: str) -> None:
    y = tone(1.0, 48_000, freq=440.0, amp=0.5)
    data = encode(fmt, y, 48_000)
    audio = load_audio(data, 16_000)
    assert audio.samples.dtype == np.float32
    assert audio.samples.ndim == 1
    assert audio.sample_rate == 16_000
    assert audio.original.sample_rate == 48_000
    assert audio.duration == pytest.approx(1.0, abs=0.05)
    assert dominant_freq(audio.samples, 16_000) == pytest.approx(440.0, abs=3.0)
    rms = float(np.sqrt(np.mean(audio.samples[2000:-2000] ** 2)))
    tolerance = 0.05 if fmt in LOSSY else 0.005
    assert rms == pytest.approx(0.5 / np.sqrt(2), abs=tolerance)


@pytest.mark.parametrize("fmt", ["aiff", "wav-float32", "flac", "webm-opus", "m4a-aac"])
def test_format_is_found_by_content_not_extension(tmp_path: Path, fmt: str) -> None:
    """A real corpus ships AIFF files named .wav; browsers send WebM named anything."""
    path = tmp_path / "misnamed.wav"
    path.write_bytes(encode(fmt, tone(0.5, 16_000), 16_000))
    assert len(load(path, 16_000)) == pytest.approx(8000, abs=200)


def test_float32_wav_that_python_wave_module_rejects(tmp_path: Path) -> None:
    import wave

    path = tmp_path / "float.wav"
    sf.write(path, tone(0.25, 22_050), 22_050, subtype="FLOAT")
    with pytest.raises(wave.Error), wave.open(str(path)):
        pass
    assert load_audio(path, None).sample_rate == 22_050


def test_multichannel_is_averaged_and_stereo_cancels() -> None:
    left = tone(0.5, 16_000)
    stereo = np.stack([left, -left], axis=1)
    assert np.abs(load(write_soundfile(stereo, 16_000, "WAV", "FLOAT"), 16_000)).max() < 1e-6
    eight = np.repeat(left[:, None], 8, axis=1)
    audio = load_audio(write_soundfile(eight, 96_000, "WAV", "PCM_24"), 16_000)
    assert audio.original.channels == 8
    assert audio.samples.ndim == 1


def test_stereo_through_ffmpeg_is_averaged_too() -> None:
    left = tone(0.5, 48_000)
    data = encode("webm-opus", np.stack([left, left * 0.0], axis=1), 48_000)
    audio = load_audio(data, 48_000)
    assert audio.original.channels == 2
    rms = float(np.sqrt(np.mean(audio.samples[4000:-4000] ** 2)))
    assert rms == pytest.approx(0.25 / np.sqrt(2), abs=0.03)


def test_native_rate_kept_when_sample_rate_is_none() -> None:
    audio = load_audio(write_soundfile(tone(0.1, 8_000), 8_000, "WAV", "PCM_16"), None)
    assert audio.sample_rate == 8_000
    assert len(audio.samples) == 800


def test_accepts_paths_bytes_and_file_objects(tmp_path: Path) -> None:
    data = write_soundfile(tone(0.1), 16_000, "FLAC", "PCM_16")
    path = tmp_path / "a.flac"
    path.write_bytes(data)
    for source in (path, str(path), data, bytearray(data), io.BytesIO(data)):
        assert len(load(source)) == 1600


def test_probe_reports_native_properties() -> None:
    info = probe(write_soundfile(np.zeros((441, 2), np.float32), 44_100, "WAV", "PCM_16"))
    assert (info.sample_rate, info.channels, info.frames) == (44_100, 2, 441)
    assert info.duration == pytest.approx(0.01)


# ---------------------------------------------------------------- bad input


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.wav"
    path.write_bytes(b"")
    with pytest.raises(EmptyAudioError, match=r"empty.wav: the file is empty"):
        load(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(AudioError, match="no such file"):
        load(tmp_path / "nope.wav")


@pytest.mark.parametrize(
    "payload",
    [
        b"hello, this is not audio at all" * 10,
        b"<html><body>x</body></html>",
        bytes(range(256)) * 8,
    ],
)
def test_not_audio(payload: bytes) -> None:
    with pytest.raises(NotAudioError, match="not a recognised audio format"):
        load(payload, name="upload.wav")


@pytest.mark.parametrize("fmt", ["wav-pcm16", "flac", "mp3", "webm-opus"])
def test_truncated(fmt: str) -> None:
    data = encode(fmt, tone(1.0, 16_000), 16_000)
    cut = data[: len(data) // 2] if fmt != "webm-opus" else data[:200]
    with pytest.raises((TruncatedAudioError, NotAudioError)) as info:
        audio = load_audio(cut, 16_000)
        # Some codecs stream cleanly up to the cut; then the header must disagree.
        pytest.fail(f"truncated {fmt} decoded as {audio.duration:.2f} s")
    assert "upload" not in str(info.value)


def test_truncated_wav_is_reported_as_truncated() -> None:
    data = write_soundfile(tone(1.0), 16_000, "WAV", "PCM_16")
    with pytest.raises(TruncatedAudioError, match="header announces 32000 data bytes"):
        load(data[:20_000], name="cut.wav")


def test_zero_length_audio() -> None:
    with pytest.raises(ZeroLengthAudioError, match="no audio samples"):
        load(write_soundfile(np.zeros(0, np.float32), 16_000, "WAV", "PCM_16"))


def test_nan_and_inf_samples() -> None:
    y = tone(0.1)
    y[10] = np.nan
    y[20] = np.inf
    with pytest.raises(NonFiniteAudioError, match="2 of 1600 samples"):
        load(write_soundfile(y, 16_000, "WAV", "FLOAT"))


@pytest.mark.parametrize("fmt", ["wav-pcm16", "webm-opus"])
def test_longer_than_limit_is_refused_before_resampling(fmt: str) -> None:
    data = encode(fmt, tone(3.0, 16_000), 16_000)
    with pytest.raises(AudioTooLongError, match="longer than allowed"):
        load(data, max_seconds=2.0)
    assert len(load(data, max_seconds=5.0)) == pytest.approx(48_000, abs=400)


def test_hour_long_flac_is_refused_from_its_header_without_decoding(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    data = hour_of_silence_flac()

    def no_decoding(*args: object, **kwargs: object) -> None:
        raise AssertionError("decoded audio that the header already put over the limit")

    monkeypatch.setattr(sf.SoundFile, "read", no_decoding)
    with pytest.raises(AudioTooLongError, match=r"3600\.0 s > limit 600 s"):
        load(data, max_seconds=600)


def test_errors_are_value_errors_with_the_source_name() -> None:
    with pytest.raises(ValueError, match=r"^clip-7.ogg: "):
        load(b"\x00" * 64, name="clip-7.ogg")


def test_wav_with_odd_chunk_before_data_is_not_called_truncated() -> None:
    data = write_soundfile(tone(0.1), 16_000, "WAV", "PCM_16")
    riff, fmt_chunk, data_chunk = data[:12], data[12:36], data[36:]
    odd = b"LIST" + struct.pack("<I", 3) + b"abc\x00"
    rebuilt = riff + fmt_chunk + odd + data_chunk
    rebuilt = rebuilt[:4] + struct.pack("<I", len(rebuilt) - 8) + rebuilt[8:]
    assert len(load(rebuilt)) == 1600

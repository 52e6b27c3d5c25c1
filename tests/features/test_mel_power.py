"""The voice encoder's power mel spectrogram is librosa's, without loading librosa."""

from __future__ import annotations

import librosa
import numpy as np
import pytest

from audioclf.features import mel_power
from audioclf.features.mel_power import mel_filterbank, power_mel


@pytest.mark.parametrize(("sr", "n_fft", "n_mels"), [(16_000, 400, 40), (22_050, 512, 64)])
def test_filterbank_is_librosas_slaney_filterbank(sr: int, n_fft: int, n_mels: int) -> None:
    ours = mel_filterbank(sr, n_fft, n_mels)
    theirs = librosa.filters.mel(sr=sr, n_fft=n_fft, n_mels=n_mels)
    np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-8)


@pytest.mark.parametrize("n", [8_000, 48_000, 48_123, 5_000 * 160])
def test_spectrogram_is_librosas_melspectrogram(n: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(mel_power, "BLOCK_FRAMES", 1_000)  # the longest clip spans blocks
    y = (0.1 * np.random.default_rng(n).standard_normal(n)).astype(np.float32)
    ours = power_mel(y, 16_000, n_fft=400, hop=160, n_mels=40)
    theirs = librosa.feature.melspectrogram(y=y, sr=16_000, n_fft=400, hop_length=160, n_mels=40)
    assert ours.shape == theirs.shape and ours.dtype == np.float32
    np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-6 * float(theirs.max()))


def test_reflect_padding_is_librosas_reflect_mode() -> None:
    y = (0.1 * np.random.default_rng(3).standard_normal(16_000)).astype(np.float32)
    ours = power_mel(y, 16_000, n_fft=400, hop=160, n_mels=80, pad_mode="reflect")
    theirs = librosa.feature.melspectrogram(
        y=y, sr=16_000, n_fft=400, hop_length=160, n_mels=80, pad_mode="reflect"
    )
    np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-6 * float(theirs.max()))
    with pytest.raises(ValueError, match="reflect padding needs more than 200 samples"):
        power_mel(y[:200], 16_000, n_fft=400, hop=160, n_mels=80, pad_mode="reflect")

"""The pretrained voice encoder's pooled states, on the weights the resemblyzer wheel ships."""

from __future__ import annotations

import importlib.util
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import SimpleNamespace

import librosa
import numpy as np
import pytest

from audioclf.features import voice_encoder
from audioclf.features.voice_encoder import (
    DIM,
    VoiceEncoderUnavailableError,
    layer_outputs,
    voice_encoder_stats,
    voice_encoder_stats_batch,
    weights_file,
)

needs_weights = pytest.mark.skipif(
    importlib.util.find_spec("resemblyzer") is None, reason="resemblyzer not installed"
)


def _voice(seconds: float = 1.5, sr: int = 16_000, f0: float = 140.0) -> np.ndarray:
    """A buzzy vowel-like tone with a slow pitch glide and a little noise."""
    t = np.arange(int(seconds * sr)) / sr
    phase = 2 * np.pi * np.cumsum(f0 * (1 + 0.1 * np.sin(2 * np.pi * 2 * t))) / sr
    y = sum(np.sin(k * phase) / k for k in range(1, 12))
    rng = np.random.default_rng(0)
    return (0.1 * y + 0.002 * rng.standard_normal(len(t))).astype(np.float32)


@needs_weights
def test_stats_shape_determinism_and_gain_invariance() -> None:
    y = _voice()
    v = voice_encoder_stats(y, 16_000)
    assert v.shape == (DIM,) == (1024,) and v.dtype == np.float32 and np.isfinite(v).all()
    np.testing.assert_array_equal(v, voice_encoder_stats(y, 16_000))
    # scaled to the encoder's level first, so the recording gain does not matter
    np.testing.assert_allclose(voice_encoder_stats(0.05 * y, 16_000), v, atol=1e-4)
    # a different voice gives a different vector
    assert np.abs(voice_encoder_stats(_voice(f0=220.0), 16_000) - v).max() > 1e-2


@needs_weights
def test_frames_every_10_ms_resampled_and_short_clips_padded() -> None:
    outputs = layer_outputs(_voice(2.0), 16_000)
    assert [o.shape for o in outputs] == [(201, 256)] * 3
    # 8 kHz audio is resampled to the encoder's 16 kHz
    assert layer_outputs(_voice(2.0, sr=8_000), 8_000)[0].shape == (201, 256)
    # a 0.1 s clip is centred in 0.5 s of silence; silence itself is no error
    assert layer_outputs(_voice(0.1), 16_000)[0].shape == (51, 256)
    assert np.isfinite(voice_encoder_stats(np.zeros(100, np.float32), 16_000)).all()
    with pytest.raises(ValueError, match="mono"):
        voice_encoder_stats(np.zeros((2, 100), np.float32), 16_000)


@needs_weights
def test_weights_and_frontend_are_the_packages() -> None:
    """Our layer-by-layer LSTM gives what the package's stacked LSTM and projection give
    (its speaker embedding), and our mel front end uses the package's parameters. The
    package itself is not imported: its VAD dependency needs pkg_resources."""
    import torch

    folder = weights_file().parent
    spec = importlib.util.spec_from_file_location("rz_hparams", folder / "hparams.py")
    assert spec is not None and spec.loader is not None
    hparams = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(hparams)
    assert hparams.sampling_rate == voice_encoder.SAMPLE_RATE
    assert hparams.mel_n_channels == voice_encoder.N_MELS
    assert hparams.mel_window_length * hparams.sampling_rate // 1000 == voice_encoder.N_FFT
    assert hparams.mel_window_step * hparams.sampling_rate // 1000 == voice_encoder.HOP
    assert (hparams.model_hidden_size, hparams.model_num_layers) == (256, voice_encoder.LAYERS)
    assert hparams.audio_norm_target_dBFS == voice_encoder.TARGET_DBFS

    state = torch.load(weights_file(), map_location="cpu", weights_only=True)["model_state"]
    stacked = torch.nn.LSTM(40, 256, 3, batch_first=True)
    stacked.load_state_dict({k[5:]: v for k, v in state.items() if k.startswith("lstm.")})
    linear = torch.nn.Linear(256, 256)
    linear.load_state_dict({k[7:]: v for k, v in state.items() if k.startswith("linear.")})
    y = _voice(1.6)
    mel = librosa.feature.melspectrogram(
        y=voice_encoder._prepare(y, 16_000), sr=16_000, n_fft=400, hop_length=160, n_mels=40
    )
    with torch.inference_mode():
        _, (hidden, _) = stacked(torch.from_numpy(mel.T.astype(np.float32))[None])
        expected = torch.relu(linear(hidden[-1][0]))
        last = torch.from_numpy(layer_outputs(y, 16_000)[-1][-1])
        ours = torch.relu(linear(last))
    np.testing.assert_allclose(ours.numpy(), expected.numpy(), atol=1e-5)
    assert float(expected.norm()) > 0


def test_missing_package_or_file_names_the_fix(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(voice_encoder, "find_spec", lambda name: None)
    with pytest.raises(VoiceEncoderUnavailableError, match=r"pip install 'audioclf\[voice\]'"):
        weights_file()
    spec = SimpleNamespace(submodule_search_locations=[str(tmp_path)])
    monkeypatch.setattr(voice_encoder, "find_spec", lambda name: spec)
    with pytest.raises(VoiceEncoderUnavailableError, match=r"pretrained\.pt is missing"):
        weights_file()


@needs_weights
def test_clips_in_parallel_threads_match_and_torch_threads_are_restored() -> None:
    import torch

    clips = [_voice(1.0, f0=f0) for f0 in (110.0, 140.0, 180.0, 220.0)]
    alone = [voice_encoder_stats(y, 16_000) for y in clips]
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        with ThreadPoolExecutor(max_workers=4) as pool:
            together = list(pool.map(lambda y: voice_encoder_stats(y, 16_000), clips))
        assert torch.get_num_threads() == 2  # the caller's setting, back once all are done
    finally:
        torch.set_num_threads(before)
    for a, b in zip(alone, together, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


@needs_weights
def test_a_batch_gives_each_clips_own_stats_and_groups_are_bounded() -> None:
    clips = [_voice(seconds, f0=f0) for seconds, f0 in ((0.7, 110.0), (2.0, 150.0), (1.2, 200.0))]
    together = voice_encoder_stats_batch(clips, 16_000)
    for y, v in zip(clips, together, strict=True):
        np.testing.assert_allclose(v, voice_encoder_stats(y, 16_000), rtol=1e-4, atol=1e-5)
    lengths = [100, 5000, 300, 4000, 4100, 200]
    groups = voice_encoder.length_groups(lengths)
    assert sorted(i for g in groups for i in g) == list(range(len(lengths)))
    assert all(len(g) * max(lengths[i] for i in g) <= voice_encoder.BATCH_FRAMES for g in groups)
    # alone, not dropped
    assert voice_encoder.length_groups([3 * voice_encoder.BATCH_FRAMES]) == [[0]]

"""The in-graph frontends match librosa and export to ONNX with a dynamic length."""

from __future__ import annotations

import warnings
from pathlib import Path

import librosa
import numpy as np
import pytest
import torch

from audioclf.features.frontends import (
    MFCC,
    Deltas,
    FrontendConfigError,
    LogMel,
    Spectrogram,
    dct_matrix,
)
from tests.conftest import tone


def _noise(n: int, seed: int = 0) -> np.ndarray:
    return (np.random.default_rng(seed).standard_normal(n) * 0.1).astype(np.float32)


def _run(module: torch.nn.Module, y: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        return module(torch.from_numpy(y)[None])[0].numpy()


@pytest.mark.parametrize(
    ("sr", "n_fft", "f_min", "f_max"), [(16_000, 512, 0.0, None), (8_000, 256, 50.0, 3_800.0)]
)
def test_mel_power_matches_librosa(sr: int, n_fft: int, f_min: float, f_max: float | None) -> None:
    y = _noise(sr // 2) + tone(0.5, sr, 300.0)
    ours = _run(LogMel(sr, n_mels=40, f_min=f_min, f_max=f_max, log=False), y)
    ref = librosa.feature.melspectrogram(
        y=y,
        sr=sr,
        n_fft=n_fft,
        hop_length=sr // 100,
        win_length=sr // 40,
        center=True,
        pad_mode="constant",
        n_mels=40,
        fmin=f_min,
        fmax=f_max,
    )
    assert ours.shape == ref.shape
    np.testing.assert_allclose(ours, ref, rtol=1e-4, atol=1e-5 * ref.max())


def test_log_mel_is_log_of_power() -> None:
    y = _noise(8_000, seed=1)
    power = _run(LogMel(16_000, log=False), y)
    np.testing.assert_allclose(_run(LogMel(16_000), y), np.log(power + 1e-6), rtol=1e-5, atol=1e-4)


def test_spectrogram_matches_librosa_stft() -> None:
    y = _noise(8_000, seed=2)
    ref = np.abs(librosa.stft(y, n_fft=512, hop_length=160, win_length=400, pad_mode="constant"))
    ours = np.exp(_run(Spectrogram(16_000), y)) - 1e-6
    np.testing.assert_allclose(ours, ref, rtol=1e-4, atol=1e-5 * ref.max())


def test_mfcc_matches_librosa_dct_of_log_mel() -> None:
    y = _noise(8_000, seed=3)
    log_mel = np.log(_run(LogMel(16_000, log=False), y) + 1e-6)
    ref = librosa.feature.mfcc(S=log_mel, n_mfcc=20, dct_type=2, norm="ortho")
    ours = _run(MFCC(16_000, n_mfcc=20, deltas=False), y)
    np.testing.assert_allclose(ours, ref, rtol=1e-4, atol=1e-3)


def test_mfcc_with_deltas_stacks_three_blocks() -> None:
    out = _run(MFCC(16_000, n_mfcc=13), _noise(8_000))
    assert out.shape == (39, 51)
    assert not np.allclose(out[13:26], 0)


def test_dct_matrix_is_orthonormal() -> None:
    m = dct_matrix(32, 32)
    np.testing.assert_allclose(m @ m.T, np.eye(32), atol=1e-10)


def test_deltas_of_a_ramp_are_its_slope_inside_and_replicate_at_edges() -> None:
    ramp = torch.arange(20, dtype=torch.float32).view(1, 1, 20) * 3.0
    d = Deltas(width=2)(ramp)[0, 0].numpy()
    np.testing.assert_allclose(d[2:-2], 3.0, rtol=1e-6)
    assert d[0] < 3.0 and d[-1] < 3.0  # edge replication flattens the ends


@pytest.mark.parametrize("n", [8_000, 8_159, 24_000])
def test_frame_count_is_centred(n: int) -> None:
    assert _run(LogMel(16_000), _noise(n)).shape == (64, 1 + n // 160)


def test_utterance_normalisation_cancels_gain() -> None:
    y = tone(0.5, freq=440.0) + _noise(8_000, seed=4)
    frontend = LogMel(16_000, normalize="utterance", log_offset=1e-12)
    quiet, loud = _run(frontend, 0.1 * y), _run(frontend, y)
    np.testing.assert_allclose(quiet, loud, atol=1e-3)
    assert abs(loud.mean()) < 1e-4 and abs(loud.std() - 1) < 1e-3


def test_channel_normalisation_standardises_each_bin() -> None:
    out = _run(MFCC(16_000, normalize="channel"), _noise(16_000, seed=5))
    np.testing.assert_allclose(out.mean(axis=1), 0, atol=1e-4)
    np.testing.assert_allclose(out.std(axis=1), 1, atol=1e-2)


@pytest.mark.parametrize(
    "build",
    [
        lambda: LogMel(16_000, normalize="gain"),
        lambda: LogMel(16_000, f_max=9_000),
        lambda: MFCC(16_000, n_mfcc=80, n_mels=64),
        lambda: LogMel(16_000, n_fft=256),
    ],
)
def test_bad_parameters_raise_typed_errors(build: object) -> None:
    with pytest.raises(FrontendConfigError):
        build()  # type: ignore[operator]


def test_log_mel_exports_to_onnx_with_dynamic_length(tmp_path: Path) -> None:
    import onnxruntime as ort

    frontend = LogMel(16_000, normalize="utterance", log_offset=1e-12).eval()
    path = tmp_path / "logmel.onnx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            frontend,
            (torch.zeros(1, 8_000),),
            str(path),
            input_names=["x"],
            output_names=["y"],
            dynamic_axes={"x": {0: "b", 1: "t"}, "y": {0: "b", 2: "f"}},
            opset_version=17,
            dynamo=False,
        )
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    for n in (8_000, 12_345):
        x = np.stack([_noise(n, 6), _noise(n, 7)])
        got = session.run(["y"], {"x": x})[0]
        np.testing.assert_allclose(got, frontend(torch.from_numpy(x)).detach().numpy(), atol=1e-4)

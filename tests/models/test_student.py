"""The distillation student: small, and its ONNX graph computes what its PyTorch does."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
import torch
from torch import nn

from audioclf.export.neural import export_onnx
from audioclf.models import ModelOptionError, count_parameters, create_model, model_info


def _student(n_classes: int = 6, **options: object) -> nn.Module:
    torch.manual_seed(0)
    model = create_model("student", n_classes, sample_rate=16_000, **options)
    assert isinstance(model, nn.Module)
    return model


def _trained_looking(model: nn.Module) -> nn.Module:
    """Batch-norm statistics and affine parameters away from their initial values, so
    a graph that dropped or mis-fused a normalisation would give different outputs."""
    rng = torch.Generator().manual_seed(1)
    for module in model.modules():
        if isinstance(module, nn.BatchNorm2d):
            n = module.num_features
            assert module.running_mean is not None and module.running_var is not None
            module.running_mean.copy_(0.2 * torch.randn(n, generator=rng))
            module.running_var.copy_(0.5 + torch.rand(n, generator=rng))
            module.weight.data.copy_(1.0 + 0.2 * torch.randn(n, generator=rng))
            module.bias.data.copy_(0.1 * torch.randn(n, generator=rng))
    return model.eval()


def test_the_student_is_small_and_registered_with_the_cnn_family() -> None:
    info = model_info("student")
    assert (info.family, info.input) == ("default", "waveform")
    params = count_parameters(_student())
    assert params <= 1_000_000
    assert params < count_parameters(create_model("audioclf_default", 6)) / 3


def test_widths_are_options_and_unknown_options_are_refused() -> None:
    small = _student(channels=(8, 16, 32, 48), gru_hidden=24)
    assert count_parameters(small) < count_parameters(_student())
    with pytest.raises(ModelOptionError, match="student"):
        _student(chanels=(8, 16, 32, 48))


def test_onnx_matches_pytorch_on_random_waveforms_of_two_lengths(tmp_path: Path) -> None:
    model = _trained_looking(_student())
    n_samples = 48_000  # 3 s at 16 kHz
    path = export_onnx(model, tmp_path / "student.onnx", n_samples)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(0)
    for length in (n_samples, 27_200):  # the crop length, and a shorter clip
        x = (0.1 * rng.standard_normal((3, length))).astype(np.float32)
        with torch.no_grad():
            logits = model(torch.from_numpy(x)).numpy()
        got_logits, got_probs = session.run(["logits", "probabilities"], {"waveform": x})
        assert got_logits.shape == (3, 6)
        np.testing.assert_allclose(got_logits, logits, atol=1e-3, rtol=1e-3)
        expected = torch.softmax(torch.from_numpy(logits), dim=-1).numpy()
        np.testing.assert_allclose(got_probs, expected, atol=1e-4)
        # the outputs depend on the input: a graph that ignored it would pass the above
        # only if PyTorch ignored it too
        assert np.ptp(logits, axis=0).max() > 1e-3

"""One model per family (and the default) exports to ONNX and matches PyTorch."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from audioclf.export.neural import export_onnx, verify_onnx
from audioclf.models import create_model


@pytest.mark.parametrize("name", ["audioclf_default", "m5", "cnn2d_2", "lenet", "cnn_lstm", "mlp"])
def test_onnx_matches_pytorch_at_two_lengths(name: str, tmp_path: Path) -> None:
    torch.manual_seed(0)
    model = create_model(name, 4, sample_rate=16_000)
    model.train()
    with torch.no_grad():  # move batch-norm statistics off their initial values
        model(torch.randn(4, 8_000) * 0.1)
    model.eval()
    path = export_onnx(model, tmp_path / f"{name}.onnx", 8_000)
    assert verify_onnx(model, path, 8_000, tolerance=1e-4) <= 1e-4


def test_default_model_trained_with_vtlp_exports_without_the_warp(tmp_path: Path) -> None:
    torch.manual_seed(0)
    model = create_model("audioclf_default", 3, sample_rate=16_000, vtlp=0.1)
    wave = torch.randn(2, 8_000) * 0.1
    model.train()
    logits = model(wave)
    logits.sum().backward()  # the warp is differentiable, so training goes through it
    model.eval()
    path = export_onnx(model, tmp_path / "vtlp.onnx", 8_000)
    assert verify_onnx(model, path, 8_000, tolerance=1e-4) <= 1e-4

"""Export a trained torch model to ONNX and prove the export computes the same thing."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import torch
from torch import nn

from audioclf.export.parity import PARITY_TOLERANCE, check_parity


class _Probabilities(nn.Module):
    """Wrap a logits model so the exported graph outputs logits and probabilities."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, waveform: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        logits = self.model(waveform)
        return logits, torch.softmax(logits, dim=-1)


def export_onnx(
    model: nn.Module,
    path: str | Path,
    n_samples: int,
    *,
    input_name: str = "waveform",
    opset: int = 17,
) -> Path:
    """Write ``model`` ((batch, samples) → logits) as ONNX with dynamic axes.

    The graph has one input (``waveform``, or ``features`` for a fixed-size feature
    vector, whose second axis is then static) and outputs ``logits`` and ``probabilities``.
    """
    path = Path(path)
    wrapped = _Probabilities(model).eval()
    dummy = torch.zeros(2, n_samples)
    input_axes = {0: "batch", 1: "samples"} if input_name == "waveform" else {0: "batch"}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            wrapped,
            (dummy,),
            str(path),
            input_names=[input_name],
            output_names=["logits", "probabilities"],
            dynamic_axes={
                input_name: input_axes,
                "logits": {0: "batch"},
                "probabilities": {0: "batch"},
            },
            opset_version=opset,
            dynamo=False,
        )
    return path


def verify_onnx(
    model: nn.Module,
    path: str | Path,
    n_samples: int,
    *,
    input_name: str = "waveform",
    tolerance: float = PARITY_TOLERANCE,
    seed: int = 0,
) -> float:
    """Largest probability difference between PyTorch and ONNX Runtime on random input
    (audio at two lengths, or feature vectors); raises :class:`ExportError` above
    ``tolerance``."""
    import onnxruntime as ort

    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(seed)
    worst = 0.0
    model.eval()
    lengths = (n_samples, n_samples + n_samples // 2) if input_name == "waveform" else (n_samples,)
    for length in lengths:
        x = (rng.standard_normal((3, length)) * 0.1).astype(np.float32)
        with torch.no_grad():
            expected = torch.softmax(model(torch.from_numpy(x)), dim=-1).numpy()
        got = session.run(["probabilities"], {input_name: x})[0]
        worst = max(worst, float(np.abs(expected - got).max()))
    return check_parity(worst, path, "PyTorch", tolerance)

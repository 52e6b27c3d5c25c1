"""The Issa et al. 1-D CNN: shapes, gradients, registry entry and ONNX parity."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from audioclf.export.neural import export_onnx, verify_onnx
from audioclf.features.handcrafted import ISSA_DIM
from audioclf.models.issa import IssaCNN
from audioclf.models.registry import create_model, model_info
from audioclf.models.wrappers import Standardized


def test_registered_as_handcrafted() -> None:
    info = model_info("issa_cnn")
    assert (info.family, info.input) == ("handcrafted", "handcrafted")
    model = create_model("issa_cnn", 5)
    assert isinstance(model, IssaCNN)
    assert model.input_kind == "handcrafted"
    assert model.n_classes == 5


def test_forward_backward() -> None:
    torch.manual_seed(0)
    model = create_model("issa_cnn", 4)
    x = torch.randn(3, ISSA_DIM)
    logits = model(x)
    assert logits.shape == (3, 4)
    torch.nn.functional.cross_entropy(logits, torch.tensor([0, 1, 3])).backward()
    grads = [p.grad for p in model.parameters()]
    assert all(g is not None and torch.isfinite(g).all() for g in grads)
    assert any(float(g.abs().sum()) > 0 for g in grads if g is not None)


def test_layers_follow_the_paper() -> None:
    model = IssaCNN(8)
    convs = [m for m in model.modules() if isinstance(m, torch.nn.Conv1d)]
    assert [c.out_channels for c in convs] == [256, 128, 128, 128, 128, 128]
    assert all(c.kernel_size == (5,) for c in convs)
    assert model.classifier.in_features == 128 * (ISSA_DIM // 8)


def test_eval_is_deterministic() -> None:
    model = create_model("issa_cnn", 3).eval()
    x = torch.randn(2, ISSA_DIM)
    with torch.no_grad():
        assert torch.equal(model(x), model(x))


def test_wrong_length_fails_loudly() -> None:
    with pytest.raises(RuntimeError):
        create_model("issa_cnn", 3)(torch.randn(2, 100))


def test_onnx_matches_torch(tmp_path: Path) -> None:
    import onnxruntime as ort

    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    train = rng.standard_normal((16, ISSA_DIM)).astype(np.float32) * 5 + 2
    model = Standardized(create_model("issa_cnn", 6), ISSA_DIM).fit(train).eval()
    path = export_onnx(model, tmp_path / "issa.onnx", ISSA_DIM, input_name="features")
    assert verify_onnx(model, path, ISSA_DIM, input_name="features") < 1e-4
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    x = train[:1]
    got = session.run(["probabilities"], {"features": x})[0]
    with torch.no_grad():
        expected = torch.softmax(model(torch.from_numpy(x)), dim=-1).numpy()
    np.testing.assert_allclose(got, expected, atol=1e-5)

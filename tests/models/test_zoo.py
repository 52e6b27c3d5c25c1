"""Every torch model of the families defined here: shapes, gradients, determinism.

Parametrised over ``list_models()``, so a newly registered model is tested for free.
"""

from __future__ import annotations

import pytest
import torch
from torch import nn

from audioclf.models import count_parameters, create_model, list_models, model_info
from audioclf.models.default import AudioclfNet

OWN_FAMILIES = {"waveform", "spectrogram", "recurrent", "dense", "default"}
MODELS = [n for n in list_models() if model_info(n).family in OWN_FAMILIES]


def _build(name: str, **options: object) -> nn.Module:
    torch.manual_seed(0)
    model = create_model(name, 5, sample_rate=16_000, **options)
    assert isinstance(model, nn.Module)
    return model


def test_every_family_is_registered() -> None:
    assert {model_info(n).family for n in MODELS} == OWN_FAMILIES
    assert {
        "m3",
        "m5",
        "m11",
        "m18",
        "m34_res",
        "cnn2d_1",
        "cnn2d_2",
        "cnn2d_4",
        "lenet",
        "cnn_lstm",
        "mlp",
        "audioclf_default",
    } <= set(MODELS)


@pytest.mark.parametrize("name", MODELS)
def test_forward_shape_for_two_lengths(name: str) -> None:
    model = _build(name).eval()
    with torch.no_grad():
        for samples in (8_000, 24_000):
            logits = model(torch.randn(2, samples) * 0.1)
            assert logits.shape == (2, 5)
            assert torch.isfinite(logits).all()


@pytest.mark.parametrize("name", MODELS)
def test_backward_gives_finite_gradients(name: str) -> None:
    model = _build(name).train()
    loss = nn.functional.cross_entropy(model(torch.randn(2, 8_000) * 0.1), torch.tensor([0, 3]))
    loss.backward()
    grads = [p.grad for p in model.parameters() if p.requires_grad]
    assert all(g is not None and torch.isfinite(g).all() for g in grads)
    assert any(g is not None and g.abs().sum() > 0 for g in grads)


@pytest.mark.parametrize("name", MODELS)
def test_eval_is_deterministic_and_attributes_are_set(name: str) -> None:
    model = _build(name).eval()
    x = torch.randn(3, 8_000) * 0.1
    with torch.no_grad():
        assert torch.equal(model(x), model(x))
    assert model.n_classes == 5
    assert model.sample_rate == 16_000
    assert model.clip_seconds == 3.0
    assert count_parameters(model) > 0


def test_clip_seconds_and_dropout_are_options() -> None:
    model = _build("m5", clip_seconds=1.0, dropout=0.5)
    assert model.clip_seconds == 1.0


def test_first_waveform_conv_spans_10_ms() -> None:
    for sr, kernel in ((8_000, 80), (16_000, 160)):
        conv = create_model("m5", 3, sample_rate=sr).features[0][0]
        assert conv.kernel_size == (kernel,) and conv.stride == (4,)


def _conv_widths(model: nn.Module) -> list[int]:
    return [
        m.out_channels
        for m in model.modules()
        if isinstance(m, nn.Conv1d) and m.kernel_size != (1,)
    ]


def test_waveform_channels_follow_the_paper() -> None:
    assert _conv_widths(_build("m5")) == [128, 128, 256, 512]
    assert _conv_widths(_build("m11")) == [64, 64, 64, 128, 128, 256, 256, 256, 512, 512]
    assert _conv_widths(_build("m18")) == [64] + [64] * 4 + [128] * 4 + [256] * 4 + [512] * 4
    res = _conv_widths(_build("m34_res"))
    assert res == [48] + [48] * 6 + [96] * 8 + [192] * 12 + [384] * 6
    assert len(res) + 1 == 34  # 33 convolutions + the linear layer


def test_default_model_size_and_specaugment() -> None:
    model = _build("audioclf_default")
    assert isinstance(model, AudioclfNet)
    assert 300_000 <= count_parameters(model) <= 1_000_000
    x = torch.randn(2, 16_000) * 0.1
    model.train()
    torch.manual_seed(1)
    with torch.no_grad():
        a = model.frontend(x)
        assert not torch.equal(a, model.frontend.logmel(x).unsqueeze(1))
    model.eval()
    with torch.no_grad():
        assert torch.equal(model.frontend(x), model.frontend.logmel(x).unsqueeze(1))
    plain = _build("audioclf_default", specaugment=False)
    assert isinstance(plain, AudioclfNet) and isinstance(plain.frontend.augment, nn.Identity)


def test_default_model_learns_a_toy_task() -> None:
    torch.manual_seed(0)
    t = torch.arange(8_000) / 16_000
    low, high = torch.sin(2 * torch.pi * 300 * t), torch.sin(2 * torch.pi * 3_000 * t)
    x = torch.stack([low, high] * 4) * (0.2 + 0.1 * torch.rand(8, 1))
    y = torch.tensor([0, 1] * 4)
    model = create_model("audioclf_default", 2, specaugment=False, dropout=0.0)
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    for _ in range(15):
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()
    with torch.no_grad():
        assert torch.equal(model(x).argmax(1), y)
        for _ in range(40):  # let the batch-norm running statistics catch up
            model(x)
        assert torch.equal(model.eval()(x).argmax(1), y)

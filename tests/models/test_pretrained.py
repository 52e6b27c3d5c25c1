"""The pretrained-encoder classifier, on a tiny randomly initialised wav2vec 2.0."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from audioclf.export.neural import export_onnx, verify_onnx
from audioclf.models.pretrained import (
    ALLOW_DOWNLOAD_ENV,
    PretrainedClassifier,
    PretrainedModelError,
)
from audioclf.models.registry import create_model, model_info


@pytest.fixture(scope="module")
def tiny_encoder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 2-layer, 32-wide wav2vec 2.0 saved like a downloaded checkpoint."""
    from transformers import Wav2Vec2Config, Wav2Vec2FeatureExtractor, Wav2Vec2Model

    torch.manual_seed(0)
    config = Wav2Vec2Config(
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        conv_dim=(32, 32),
        conv_kernel=(10, 3),
        conv_stride=(5, 2),
        feat_extract_norm="layer",  # as in wav2vec2-large-lv60: not invariant to DC offset
        conv_bias=True,
        num_conv_pos_embeddings=16,
        num_conv_pos_embedding_groups=2,
        mask_time_prob=0.0,
        layerdrop=0.0,
    )
    folder = tmp_path_factory.mktemp("tiny-wav2vec2")
    Wav2Vec2Model(config).save_pretrained(folder)
    Wav2Vec2FeatureExtractor(do_normalize=True, sampling_rate=16_000).save_pretrained(folder)
    return folder


def waves(batch: int = 2, samples: int = 4000, seed: int = 0) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(batch, samples, generator=generator) * 0.1


def test_registered_as_pretrained(tiny_encoder: Path) -> None:
    info = model_info("hf_encoder")
    assert (info.family, info.input) == ("pretrained", "waveform")
    model = create_model("hf_encoder", 3, model_path=str(tiny_encoder))
    assert isinstance(model, PretrainedClassifier)
    assert (model.n_layers, model.hidden_size, model.sample_rate) == (3, 32, 16_000)
    assert model.normalize is True


def test_missing_model_path_says_how_to_download(tmp_path: Path) -> None:
    with pytest.raises(PretrainedModelError, match="huggingface-cli download"):
        create_model("hf_encoder", 3)
    with pytest.raises(PretrainedModelError, match=r"no config\.json"):
        create_model("hf_encoder", 3, model_path=str(tmp_path))


def test_hub_id_refused_offline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ALLOW_DOWNLOAD_ENV, raising=False)
    with pytest.raises(PretrainedModelError, match=ALLOW_DOWNLOAD_ENV):
        create_model("hf_encoder", 3, model_path="facebook/wav2vec2-base")


def test_other_sample_rate_refused(tiny_encoder: Path) -> None:
    with pytest.raises(PretrainedModelError, match="16000 Hz"):
        create_model("hf_encoder", 3, sample_rate=8000, model_path=str(tiny_encoder))


def test_forward_shape_and_embed_head_split(tiny_encoder: Path) -> None:
    model = create_model("hf_encoder", 4, model_path=str(tiny_encoder)).eval()
    x = waves()
    with torch.no_grad():
        logits = model(x)
        embeddings = model.embed(x)
        split = model.head_forward(embeddings)
    assert logits.shape == (2, 4)
    assert embeddings.shape == (2, 3, 64)
    torch.testing.assert_close(split, logits)


def test_frozen_encoder_gets_no_gradients(tiny_encoder: Path) -> None:
    model = create_model("hf_encoder", 3, model_path=str(tiny_encoder), freeze=True)
    model.train()
    assert not model.encoder.training
    assert model.head.training
    loss = torch.nn.functional.cross_entropy(model(waves()), torch.tensor([0, 2]))
    loss.backward()
    assert all(p.grad is None for p in model.encoder.parameters())
    assert model.layer_weights.grad is not None
    assert all(p.grad is not None for p in model.head.parameters())


def test_fine_tuning_updates_the_transformer(tiny_encoder: Path) -> None:
    model = create_model("hf_encoder", 3, model_path=str(tiny_encoder), freeze=False)
    model.train()
    assert model.encoder.training
    loss = torch.nn.functional.cross_entropy(model(waves()), torch.tensor([1, 0]))
    loss.backward()
    encoder_grads = [p.grad for p in model.encoder.encoder.parameters()]
    assert all(g is not None and torch.isfinite(g).all() for g in encoder_grads)
    assert all(p.grad is None for p in model.encoder.feature_extractor.parameters())


def test_normalisation_is_per_clip_zero_mean_unit_variance(tiny_encoder: Path) -> None:
    model = create_model("hf_encoder", 3, model_path=str(tiny_encoder)).eval()
    raw = create_model("hf_encoder", 3, model_path=str(tiny_encoder), normalize=False).eval()
    x = waves() * 3 + 0.2
    mean = x.mean(dim=1, keepdim=True)
    std = x.var(dim=1, keepdim=True, unbiased=False).add(1e-7).sqrt()
    with torch.no_grad():
        torch.testing.assert_close(model.embed(x), raw.embed((x - mean) / std))
        assert not torch.allclose(raw.embed(x), raw.embed((x - mean) / std), atol=1e-3)


def test_do_normalize_read_from_preprocessor_config(tiny_encoder: Path, tmp_path: Path) -> None:
    import shutil

    from transformers import Wav2Vec2FeatureExtractor

    folder = tmp_path / "copy"
    shutil.copytree(tiny_encoder, folder)
    Wav2Vec2FeatureExtractor(do_normalize=False).save_pretrained(folder)
    assert create_model("hf_encoder", 2, model_path=str(folder)).normalize is False
    (folder / "preprocessor_config.json").unlink()
    assert create_model("hf_encoder", 2, model_path=str(folder)).normalize is True


def test_frozen_model_exports_to_onnx(tiny_encoder: Path, tmp_path: Path) -> None:
    torch.manual_seed(0)
    model = create_model("hf_encoder", 3, model_path=str(tiny_encoder)).eval()
    path = export_onnx(model, tmp_path / "model.onnx", 4000)
    assert verify_onnx(model, path, 4000) < 1e-4

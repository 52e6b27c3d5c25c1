"""A pretrained self-supervised speech encoder with a small classification head.

Any Hugging Face ``transformers`` audio encoder that ``AutoModel`` loads and that returns
``hidden_states`` — wav2vec 2.0, HuBERT, WavLM, data2vec-audio — works. The recipe is the
SUPERB one (Yang et al., 2021): every hidden layer (the CNN projection plus each
transformer block) is pooled over time, the layers are mixed by learned softmax weights,
and a small MLP classifies the mix. Layer-wise pooling means the expensive part,
:meth:`PretrainedClassifier.embed`, does not depend on any trained weight when the
encoder is frozen, so a trainer can compute it once per clip and train only
:meth:`PretrainedClassifier.head_forward` on cached embeddings.

The model is read from a local folder (``model_path``); downloading from the Hub is
allowed only with ``AUDIOCLF_ALLOW_DOWNLOAD=1``, so runs stay offline by default.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import torch
from torch import nn

from audioclf.models.registry import register_model

ENCODER_SAMPLE_RATE = 16_000
ALLOW_DOWNLOAD_ENV = "AUDIOCLF_ALLOW_DOWNLOAD"
_DOWNLOAD_HINT = (
    "download one first, e.g. `huggingface-cli download facebook/wav2vec2-base "
    "--local-dir models/wav2vec2-base`, then pass model_path=models/wav2vec2-base "
    f"(or set {ALLOW_DOWNLOAD_ENV}=1 to let audioclf fetch a Hub id)"
)


class PretrainedModelError(ValueError):
    """A pretrained encoder that cannot be loaded as asked, and how to fix it."""


def _download_allowed() -> bool:
    return os.environ.get(ALLOW_DOWNLOAD_ENV, "") == "1"


def _resolve(model_path: str | os.PathLike[str] | None) -> tuple[str, Path | None]:
    """The ``from_pretrained`` argument and the local folder (``None`` for a Hub id)."""
    if model_path is None or str(model_path) == "":
        raise PretrainedModelError(
            f"hf_encoder needs the option model_path (a folder with config.json); {_DOWNLOAD_HINT}"
        )
    folder = Path(model_path).expanduser()
    if (folder / "config.json").is_file():
        return str(folder), folder
    if folder.exists() or not _download_allowed():
        raise PretrainedModelError(
            f"{folder}: no config.json of a Hugging Face model there; {_DOWNLOAD_HINT}"
        )
    return str(model_path), None


def _feature_extractor_config(source: str, folder: Path | None) -> dict[str, Any]:
    """The saved feature-extractor settings (``preprocessor_config.json``), if any."""
    if folder is None:
        from transformers import AutoFeatureExtractor

        try:
            extractor = AutoFeatureExtractor.from_pretrained(source)
        except (OSError, ValueError):
            return {}
        return dict(extractor.to_dict())
    path = folder / "preprocessor_config.json"
    if not path.is_file():
        return {}
    config: dict[str, Any] = json.loads(path.read_text())
    return config


class PretrainedClassifier(nn.Module):
    """Speech encoder → per-layer mean+std pooling → softmax layer mix → MLP → logits.

    ``forward`` takes waveforms ``(batch, samples)`` float32 at 16 kHz and returns logits
    ``(batch, n_classes)``; it equals ``head_forward(embed(waveforms))``.

    * ``freeze=True``: the encoder is frozen and stays in eval mode (no dropout, no
      in-model masking) even while the head trains; only the layer weights and the MLP
      learn.
    * ``freeze=False``: the encoder is fine-tuned too, except its convolutional feature
      encoder when ``freeze_feature_encoder`` (the usual choice with little data).
    * ``normalize``: zero-mean / unit-variance per clip, as the model's feature extractor
      does; ``None`` reads ``do_normalize`` from its ``preprocessor_config.json``
      (``True`` when that file is missing).
    """

    input_kind = "waveform"

    def __init__(
        self,
        model_path: str | os.PathLike[str] | None,
        n_classes: int,
        *,
        freeze: bool = True,
        freeze_feature_encoder: bool = True,
        normalize: bool | None = None,
        head_hidden: int = 256,
        dropout: float = 0.2,
        clip_seconds: float = 3.0,
    ) -> None:
        super().__init__()
        from transformers import AutoModel

        source, folder = _resolve(model_path)
        try:
            self.encoder = AutoModel.from_pretrained(
                source, local_files_only=not _download_allowed()
            )
        except (OSError, ValueError) as err:
            raise PretrainedModelError(f"{source}: cannot load the encoder ({err})") from err
        extractor = _feature_extractor_config(source, folder)
        self.normalize = (
            bool(extractor.get("do_normalize", True)) if normalize is None else normalize
        )
        encoder_rate = int(extractor.get("sampling_rate", ENCODER_SAMPLE_RATE))
        if encoder_rate != ENCODER_SAMPLE_RATE:
            raise PretrainedModelError(
                f"{source}: the encoder expects {encoder_rate} Hz audio; audioclf feeds "
                f"{ENCODER_SAMPLE_RATE} Hz — pick a 16 kHz speech encoder"
            )
        config = self.encoder.config
        self.n_layers = int(config.num_hidden_layers) + 1
        self.hidden_size = int(config.hidden_size)
        self.n_classes = n_classes
        self.sample_rate = ENCODER_SAMPLE_RATE
        self.clip_seconds = clip_seconds
        self.freeze = freeze
        self.layer_weights = nn.Parameter(torch.zeros(self.n_layers))
        self.head = nn.Sequential(
            nn.LayerNorm(2 * self.hidden_size),
            nn.Linear(2 * self.hidden_size, head_hidden),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(head_hidden, n_classes),
        )
        if freeze:
            self.encoder.requires_grad_(False)
            self.encoder.eval()
        elif freeze_feature_encoder:
            extractor_module = getattr(self.encoder, "feature_extractor", None)
            if extractor_module is not None:
                extractor_module.requires_grad_(False)

    def train(self, mode: bool = True) -> PretrainedClassifier:
        """Set training mode; a frozen encoder always stays in eval mode."""
        super().train(mode)
        if self.freeze:
            self.encoder.eval()
        return self

    def _normalise(self, waveforms: torch.Tensor) -> torch.Tensor:
        if not self.normalize:
            return waveforms
        mean = waveforms.mean(dim=-1, keepdim=True)
        var = waveforms.var(dim=-1, keepdim=True, unbiased=False)
        return (waveforms - mean) / torch.sqrt(var + 1e-7)

    def _embed(self, waveforms: torch.Tensor) -> torch.Tensor:
        outputs = self.encoder(self._normalise(waveforms), output_hidden_states=True)
        layers = torch.stack(outputs.hidden_states, dim=1)  # (B, L, frames, H)
        mean = layers.mean(dim=2)
        std = torch.sqrt(layers.var(dim=2, unbiased=False) + 1e-6)
        return torch.cat([mean, std], dim=-1)

    def embed(self, waveforms: torch.Tensor) -> torch.Tensor:
        """Per-layer time-pooled features ``(batch, n_layers, 2 × hidden)`` (mean ‖ std).

        With a frozen encoder this runs without gradients and depends on no trainable
        weight, so the result can be cached per clip.
        """
        if self.freeze:
            with torch.no_grad():
                return self._embed(waveforms)
        return self._embed(waveforms)

    def head_forward(self, embeddings: torch.Tensor) -> torch.Tensor:
        """Logits from :meth:`embed` output: softmax-weighted layer sum, then the MLP."""
        weights = torch.softmax(self.layer_weights, dim=0)
        mixed = (embeddings * weights[None, :, None]).sum(dim=1)
        return self.head(mixed)

    def forward(self, waveforms: torch.Tensor) -> torch.Tensor:
        """Logits ``(batch, n_classes)`` for 16 kHz waveforms ``(batch, samples)``."""
        return self.head_forward(self.embed(waveforms))


@register_model(
    "hf_encoder",
    family="pretrained",
    input="waveform",
    description="Pretrained HF speech encoder (wav2vec2/HuBERT/WavLM) + layer mix + MLP head",
)
def hf_encoder(
    n_classes: int,
    *,
    sample_rate: int = ENCODER_SAMPLE_RATE,
    model_path: str | None = None,
    freeze: bool = True,
    freeze_feature_encoder: bool = True,
    normalize: bool | None = None,
    head_hidden: int = 256,
    dropout: float = 0.2,
    clip_seconds: float = 3.0,
) -> PretrainedClassifier:
    """A pretrained encoder from ``model_path`` (a local folder) with a new head."""
    if sample_rate != ENCODER_SAMPLE_RATE:
        raise PretrainedModelError(
            f"hf_encoder works at {ENCODER_SAMPLE_RATE} Hz, not {sample_rate} Hz; "
            f"train with sample rate {ENCODER_SAMPLE_RATE}"
        )
    return PretrainedClassifier(
        model_path,
        n_classes,
        freeze=freeze,
        freeze_feature_encoder=freeze_feature_encoder,
        normalize=normalize,
        head_hidden=head_hidden,
        dropout=dropout,
        clip_seconds=clip_seconds,
    )

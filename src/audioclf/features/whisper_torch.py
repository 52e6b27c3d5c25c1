"""Whisper's audio encoder as a torch module, loaded from CTranslate2 variables.

The architecture of OpenAI's ``whisper/model.py`` ``AudioEncoder``: two 3-wide
convolutions (the second with stride 2) each followed by an exact GELU, a position table
added, pre-LN transformer blocks (self-attention, then a GELU MLP four times as wide) and
a final layer norm. Written here from the published architecture because the packages
that implement it (``openai-whisper``, ``transformers``) would bring their own weight
loading, tokenizer and decoder for an encoder of sixty lines, and neither reads
CTranslate2's file. The forward pass takes any number of frames up to twice the
position table and returns every hidden state.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

LN_EPS = 1e-5
"""The layer norms' epsilon (torch's default, which Whisper keeps)."""


class Block(nn.Module):
    """One pre-LN transformer block: ``x + attn(ln(x))``, then ``x + mlp(ln(x))``."""

    def __init__(self, width: int, heads: int, hidden: int) -> None:
        super().__init__()
        self.heads = heads
        self.attn_ln = nn.LayerNorm(width, eps=LN_EPS)
        self.qkv = nn.Linear(width, 3 * width)
        self.out = nn.Linear(width, width)
        self.mlp_ln = nn.LayerNorm(width, eps=LN_EPS)
        self.fc1 = nn.Linear(width, hidden)
        self.fc2 = nn.Linear(hidden, width)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch, steps, width = x.shape
        q, k, v = (
            t.reshape(batch, steps, self.heads, width // self.heads).transpose(1, 2)
            for t in self.qkv(self.attn_ln(x)).chunk(3, dim=-1)
        )
        attended = F.scaled_dot_product_attention(q, k, v)
        x = x + self.out(attended.transpose(1, 2).reshape(batch, steps, width))
        return x + self.fc2(F.gelu(self.fc1(self.mlp_ln(x))))


class Encoder(nn.Module):
    """Whisper's audio encoder; ``forward`` maps a log-mel batch ``(batch, n_mels,
    frames)`` to its hidden states, each ``(batch, ceil(frames / 2), width)``: the
    embedded input, each block's output, the last one after the final layer norm."""

    positions: torch.Tensor

    def __init__(
        self, n_mels: int, width: int, heads: int, layers: int, positions: int, hidden: int
    ) -> None:
        super().__init__()
        if width % heads:
            raise ValueError(f"width {width} is not a multiple of {heads} heads")
        self.conv1 = nn.Conv1d(n_mels, width, 3, padding=1)
        self.conv2 = nn.Conv1d(width, width, 3, stride=2, padding=1)
        self.register_buffer("positions", torch.zeros(positions, width))
        self.blocks = nn.ModuleList(Block(width, heads, hidden) for _ in range(layers))
        self.ln_post = nn.LayerNorm(width, eps=LN_EPS)

    def forward(self, mel: torch.Tensor) -> list[torch.Tensor]:
        x = F.gelu(self.conv2(F.gelu(self.conv1(mel)))).transpose(1, 2)
        steps = x.shape[1]
        if steps > self.positions.shape[0]:
            raise ValueError(
                f"{mel.shape[-1]} frames need {steps} positions; the encoder has "
                f"{self.positions.shape[0]} (encode longer input in windows)"
            )
        x = x + self.positions[:steps]
        states = [x]
        for block in self.blocks:
            x = block(x)
            states.append(x)
        states[-1] = self.ln_post(x)
        return states

    def load_ct2(self, weights: dict[str, np.ndarray]) -> None:
        """Copy in the CTranslate2 variables ``encoder/...`` (float16 ones widened)."""
        names = {
            "conv1.weight": "conv1/weight",
            "conv1.bias": "conv1/bias",
            "conv2.weight": "conv2/weight",
            "conv2.bias": "conv2/bias",
            "positions": "position_encodings/encodings",
            "ln_post.weight": "layer_norm/gamma",
            "ln_post.bias": "layer_norm/beta",
        }
        for i in range(len(self.blocks)):
            names |= _block_names(i)
        state = {}
        for ours, theirs in names.items():
            key = f"encoder/{theirs}"
            if key not in weights:
                raise ValueError(f"the weights have no {key!r} (not a Whisper encoder?)")
            state[ours] = torch.from_numpy(np.asarray(weights[key], dtype=np.float32).copy())
        self.load_state_dict(state, strict=True)


def _block_names(i: int) -> dict[str, str]:
    """Our parameter names of block ``i`` → CTranslate2's (its qkv projection is fused
    like ours; the key projection's bias, which Whisper does not have, is stored as
    zeros)."""
    ours, theirs = f"blocks.{i}.", f"layer_{i}/"
    pairs = {
        "attn_ln": "self_attention/layer_norm",
        "mlp_ln": "ffn/layer_norm",
    }
    names = {}
    for module, ct2 in pairs.items():
        names[f"{ours}{module}.weight"] = f"{theirs}{ct2}/gamma"
        names[f"{ours}{module}.bias"] = f"{theirs}{ct2}/beta"
    linears = {
        "qkv": "self_attention/linear_0",
        "out": "self_attention/linear_1",
        "fc1": "ffn/linear_0",
        "fc2": "ffn/linear_1",
    }
    for module, ct2 in linears.items():
        names[f"{ours}{module}.weight"] = f"{theirs}{ct2}/weight"
        names[f"{ours}{module}.bias"] = f"{theirs}{ct2}/bias"
    return names

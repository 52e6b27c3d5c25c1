"""A tiny random Whisper model in CTranslate2's format, written with ctranslate2's own
spec API (the layout its converters produce), for the encoder and reader tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

N_MELS = 80
WIDTH = 32
HEADS = 2
LAYERS = 2
POSITIONS = 40
"""Twice this many mel frames is the longest input (Whisper-base: 1500)."""
VOCABULARY = 12
SPECIAL = (
    "<|endoftext|>",
    "<|startoftranscript|>",
    "<|en|>",
    "<|translate|>",
    "<|transcribe|>",
    "<|startoflm|>",
    "<|startofprev|>",
    "<|nocaptions|>",
    "<|notimestamps|>",
)


def write_tiny_whisper(
    folder: Path, seed: int = 0, quantization: str = "float32"
) -> dict[str, np.ndarray]:
    """Save a random ``LAYERS``-block Whisper in ``folder`` (its weights stored as
    ``quantization``, the output projection tied to the embeddings as in Whisper); returns
    the float32 values of the variables written."""
    from ctranslate2.specs import whisper_spec

    rng = np.random.default_rng(seed)

    def r(*shape: int, scale: float = 0.1) -> np.ndarray:
        return (scale * rng.standard_normal(shape)).astype(np.float32)

    def norm(spec: Any) -> None:
        spec.gamma, spec.beta = 1 + r(WIDTH), r(WIDTH)

    def linear(spec: Any, out: int, inp: int) -> None:
        spec.weight, spec.bias = r(out, inp, scale=inp**-0.5), r(out)

    spec = whisper_spec.WhisperSpec(LAYERS, HEADS, 1, HEADS)
    enc = spec.encoder
    enc.conv1.weight, enc.conv1.bias = r(WIDTH, N_MELS, 3, scale=0.2), r(WIDTH)
    enc.conv2.weight, enc.conv2.bias = r(WIDTH, WIDTH, 3), r(WIDTH)
    enc.position_encodings.encodings = r(POSITIONS, WIDTH, scale=0.5)
    norm(enc.layer_norm)
    for layer in [*enc.layer, *spec.decoder.layer]:
        norm(layer.self_attention.layer_norm)
        linear(layer.self_attention.linear[0], 3 * WIDTH, WIDTH)
        linear(layer.self_attention.linear[1], WIDTH, WIDTH)
        norm(layer.ffn.layer_norm)
        linear(layer.ffn.linear_0, 4 * WIDTH, WIDTH)
        linear(layer.ffn.linear_1, WIDTH, 4 * WIDTH)
    dec = spec.decoder
    for layer in dec.layer:
        norm(layer.attention.layer_norm)
        linear(layer.attention.linear[0], WIDTH, WIDTH)
        linear(layer.attention.linear[1], 2 * WIDTH, WIDTH)
        linear(layer.attention.linear[2], WIDTH, WIDTH)
    dec.embeddings.weight = r(VOCABULARY, WIDTH)
    dec.position_encodings.encodings = r(8, WIDTH)
    norm(dec.layer_norm)
    dec.projection.weight = dec.embeddings.weight
    spec.register_vocabulary([*SPECIAL, *(f"t{i}" for i in range(VOCABULARY - len(SPECIAL)))])
    spec.config.suppress_ids, spec.config.suppress_ids_begin = [], []
    spec.config.lang_ids, spec.config.alignment_heads = [2], [(0, 0)]
    spec.validate()
    values = {name: np.asarray(v.numpy()) for name, v in spec.variables().items()}
    spec.optimize(quantization=quantization)
    folder.mkdir(parents=True, exist_ok=True)
    spec.save(str(folder))
    return values

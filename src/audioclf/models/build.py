"""Build the exact torch module a run trains, so inference rebuilds the same one."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import nn

from audioclf.formats.runfolder import ModelCard
from audioclf.models import create_model
from audioclf.models.wrappers import Standardized


def build_torch_model(
    name: str,
    n_classes: int,
    *,
    sample_rate: int,
    options: dict[str, Any],
    input_kind: str,
    n_inputs: int,
) -> nn.Module:
    """The registry model; feature-vector models get their input standardisation."""
    model = create_model(name, n_classes, sample_rate=sample_rate, **options)
    if input_kind != "waveform":
        model = Standardized(model, n_inputs)
    return model


def load_torch_model(run_dir: str | Path, card: ModelCard) -> nn.Module:
    """The trained torch model of a run folder, in eval mode."""
    model = build_torch_model(
        card.model,
        len(card.labels),
        sample_rate=card.sample_rate,
        options=card.options,
        input_kind=card.input,
        n_inputs=card.n_samples,
    )
    state = torch.load(Path(run_dir) / card.weights, map_location="cpu", weights_only=True)
    model.load_state_dict(state)
    return model.eval()

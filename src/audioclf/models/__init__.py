"""The model zoo: a registry of every model audioclf trains.

Importing this package registers all families: torch models that take raw audio and
return logits (waveform, spectrogram, recurrent, dense, pretrained and the default
model), the Issa CNN over the hand-crafted vector, and scikit-learn models over pooled
statistics. Build any of them with :func:`create_model`.
"""

from __future__ import annotations

from audioclf.models import (
    classical,
    counting,
    default,
    dense,
    fusion,
    issa,
    pretrained,
    recurrent,
    spectrogram,
    student,
    waveform,
)
from audioclf.models.registry import (
    ModelInfo,
    ModelOptionError,
    UnknownModelError,
    count_parameters,
    create_model,
    list_models,
    model_info,
    register_model,
)

__all__ = [
    "ModelInfo",
    "ModelOptionError",
    "UnknownModelError",
    "classical",
    "count_parameters",
    "counting",
    "create_model",
    "default",
    "dense",
    "fusion",
    "issa",
    "list_models",
    "model_info",
    "pretrained",
    "recurrent",
    "register_model",
    "spectrogram",
    "student",
    "waveform",
]

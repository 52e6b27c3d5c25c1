"""``student``: the compact network a distilled run trains (:mod:`audioclf.train.distill`).

Knowledge distillation (Hinton, Vinyals and Dean, "Distilling the knowledge in a neural
network", 2015) trains a small model to reproduce a large one's class probabilities, so
the small model is what gets served. ``student`` is :class:`~audioclf.models.default.
AudioclfNet` — log-mel in the graph, separable residual CNN, BiGRU, attentive
statistics pooling — at about a quarter of its width: stages of 16/32/64/96 channels
(two blocks each, as in the default) and a BiGRU of 48 units per direction, about
0.12 M parameters against the default's 0.45 M.

Why this design rather than a new one: the default's layout already exports to ONNX
with a dynamic length and is proven on the corpora audioclf targets; what a student
needs is to be cheap to run and to train. At 1 ONNX Runtime thread a 3-s clip costs
about 2.1 ms against 3.7 ms for the default — of which ~1.5 ms is the log-mel frontend
both share, so narrowing further buys little — and a training step of 32 crops of 3 s
about 0.21 s against 0.51 s on two cores, so the student gets ~2.4× the epochs of a
time budget on a transfer set several times the size of the labelled clips. The
teacher it replaces is usually an ensemble with a classical member whose feature
extraction costs tens of milliseconds a clip. Every width stays an option
(``channels``, ``blocks``, ``gru_hidden``, …) for a larger or smaller student.
"""

from __future__ import annotations

from typing import Any

from torch import nn

from audioclf.models.default import AudioclfNet
from audioclf.models.registry import build, register_model

STUDENT_ARCHITECTURE: dict[str, Any] = {
    "channels": (16, 32, 64, 96),
    "blocks": 2,
    "gru_hidden": 48,
}
"""The student's defaults over AudioclfNet's; a run's ``model_options`` override them."""


@register_model(
    "student",
    family="default",
    description="Distillation student: AudioclfNet at a quarter width (~0.12 M parameters)",
)
def student(n_classes: int, *, sample_rate: int = 16_000, **options: Any) -> nn.Module:
    """The distilled model: AudioclfNet with 16/32/64/96 channels and a 48-unit BiGRU.

    Trained from labels alone it is a plain small CNN; :func:`audioclf.train.distill.
    distill_student` trains it on a teacher's probabilities."""
    return build(
        AudioclfNet, n_classes, sample_rate, {**STUDENT_ARCHITECTURE, **options}, name="student"
    )

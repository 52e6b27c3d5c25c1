"""What training one model family hands back to the run: its card, its test-split
probabilities, its validation scores and predictions."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from audioclf.formats.runfolder import ModelCard, ValPredictions
from audioclf.train.data import LoadedSplit

# the validation scores of the kept model: best epoch (torch) or fit on train alone (classical)
VAL_KEYS = ("val_accuracy", "val_balanced_accuracy")


@dataclass
class Trained:
    """One trained model, before the run scores its test split."""

    card: ModelCard
    test_probs: np.ndarray
    best_epoch: int
    epochs_run: int
    val: dict[str, float]
    # the known validation clips scored by a model that did not train on them (None
    # without a validation split)
    val_predictions: ValPredictions | None = None


def known(*parts: LoadedSplit) -> LoadedSplit:
    """The clips of ``parts`` whose label the model knows, as one split."""
    keep = [(c, w, t) for p in parts for c, w, t in zip(p.clips, p.waves, p.targets, strict=True)]
    keep = [row for row in keep if row[2] >= 0]
    return LoadedSplit(
        [c for c, _, _ in keep],
        [w for _, w, _ in keep],
        np.array([t for _, _, t in keep], dtype=np.int64),
    )


def val_predictions(split: LoadedSplit, probs: np.ndarray) -> ValPredictions:
    """``probs`` of the clips of ``split`` as the run keeps them."""
    return ValPredictions([clip.id for clip in split.clips], probs, split.targets)

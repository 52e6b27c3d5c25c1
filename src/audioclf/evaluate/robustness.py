"""A run scored under controlled corruptions of its evaluation clips
(:mod:`audioclf.augment.perturb`): per SPEC, WA, UA and macro-F1 next to the clean
figures, in the order the SPECs were given."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from audioclf.augment.perturb import Perturbation, parse_perturbation, perturb_clips
from audioclf.console import console
from audioclf.evaluate.crosscorpus import score_with_label_map
from audioclf.formats.manifest import Clip
from audioclf.inference.predictor import Predictor

SCORES = ("accuracy", "balanced_accuracy", "macro_f1")


def parse_all(specs: Sequence[str]) -> list[Perturbation]:
    """Every SPEC parsed, before any work starts (a bad one fails at once)."""
    return [parse_perturbation(spec) for spec in specs]


def score_perturbations(
    predictor: Predictor,
    clips: Sequence[Clip],
    waves: Sequence[np.ndarray],
    labels: Sequence[str | None],
    clean: dict[str, Any],
    perturbations: Sequence[Perturbation],
    *,
    seed: int = 0,
) -> list[dict[str, Any]]:
    """One row per perturbation: its SPEC, the SNR when it adds noise, the scores on the
    perturbed clips and each score's change from ``clean``."""
    ids = [clip.id for clip in clips]
    speakers = [clip.speaker for clip in clips]
    rows = []
    for perturbation in perturbations:
        perturbed = perturb_clips(
            perturbation, waves, predictor.sample_rate, ids=ids, speakers=speakers, seed=seed
        )
        # no feature cache: it is keyed on the files, which hold the clean audio
        probs = predictor.predict_clips(clips, perturbed)
        scores = score_with_label_map(labels, probs, predictor.classes_)
        row: dict[str, Any] = {
            "spec": perturbation.spec,
            "family": perturbation.family,
            "snr": perturbation.snr,
            "seed": seed,
            "n_scored": scores.get("n_scored"),
        }
        for key in SCORES:
            row[key] = scores.get(key)
            if scores.get(key) is not None and clean.get(key) is not None:
                row[f"{key}_change"] = round(float(scores[key]) - float(clean[key]), 4)
        console.print(
            f"{perturbation.spec}: WA {row['accuracy']:.3f} "
            f"({row.get('accuracy_change', 0.0):+.3f} vs clean)",
            highlight=False,
        )
        rows.append(row)
    return rows

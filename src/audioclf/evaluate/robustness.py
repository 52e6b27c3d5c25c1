"""A run scored under controlled corruptions of its evaluation clips
(:mod:`audioclf.augment.perturb`): per SPEC, WA, UA and macro-F1 next to the clean
figures, in the order the SPECs were given."""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from audioclf.audio import AudioError
from audioclf.augment.perturb import Perturbation, TalkerPool, parse_perturbation, perturb_clips
from audioclf.console import console
from audioclf.evaluate.crosscorpus import score_with_label_map
from audioclf.features.cache import FeatureCache
from audioclf.formats.manifest import Clip, read_manifest
from audioclf.inference.predictor import Predictor

SCORES = ("accuracy", "balanced_accuracy", "macro_f1")
MAX_TALKER_CLIPS = 256
"""Clips of a babble manifest decoded at most (a fixed sample of them by id)."""


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
    talkers: TalkerPool | None = None,
) -> list[dict[str, Any]]:
    """One row per perturbation: its SPEC, the SNR when it adds noise, the scores on the
    perturbed clips and each score's change from ``clean``; babble from ``talkers``
    (default: the clips themselves)."""
    ids = [clip.id for clip in clips]
    speakers = [clip.speaker for clip in clips]
    rows = []
    for perturbation in perturbations:
        perturbed = perturb_clips(
            perturbation,
            waves,
            predictor.sample_rate,
            ids=ids,
            speakers=speakers,
            seed=seed,
            talkers=talkers,
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


def babble_source(
    clips: Sequence[Clip],
    run_dir: str | Path,
    babble: str | Path | None,
) -> Path | None:
    """The manifest babble is made from: ``babble`` when given; else, when the scored clips
    hold fewer than two speakers (nobody else to make babble from), the run's own
    training clips (``splits/train.jsonl``: other recordings, usually other speakers);
    else None — the scored clips themselves."""
    if babble is not None:
        return Path(babble)
    train = Path(run_dir) / "splits" / "train.jsonl"
    if len({c.speaker for c in clips if c.speaker}) < 2 and train.is_file():
        return train
    return None


def talker_pool(manifest: Path, sample_rate: int, cache: FeatureCache) -> TalkerPool:
    """Up to :data:`MAX_TALKER_CLIPS` readable clips of ``manifest`` (the same sample of it
    every time: the clips with the lowest CRC of their id), decoded at ``sample_rate``."""
    rows = sorted(read_manifest(manifest), key=lambda c: zlib.crc32(c.id.encode()))
    rows = rows[:MAX_TALKER_CLIPS]
    waves = cache.load_many(rows, sample_rate, progress=False, description="babble")
    kept = [(c, w) for c, w in zip(rows, waves, strict=True) if not isinstance(w, AudioError)]
    if not kept:
        raise ValueError(f"{manifest}: no readable clip to make babble from")
    return TalkerPool([w for _, w in kept], [c.speaker for c, _ in kept], [c.id for c, _ in kept])

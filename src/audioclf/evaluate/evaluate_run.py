"""Score a trained run on any manifest — its own test split, or another corpus through a
label map (train on RAVDESS, test on Emo-DB), and optionally under controlled corruptions
of those clips (``perturb``: :mod:`audioclf.evaluate.robustness`). Classes the model
doesn't know are reported with what the model called them, never silently dropped."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from audioclf.audio import AudioError
from audioclf.console import console
from audioclf.data.labels import LabelMap
from audioclf.evaluate.crosscorpus import apply_label_map, score_with_label_map
from audioclf.evaluate.report import write_eval_report
from audioclf.evaluate.robustness import (
    babble_source,
    parse_all,
    score_perturbations,
    talker_pool,
)
from audioclf.features.cache import FeatureCache
from audioclf.formats.atomic import write_json
from audioclf.formats.manifest import read_manifest
from audioclf.formats.runfolder import RunFolder
from audioclf.inference.predictor import Predictor


def load_label_map(path: str | Path | None) -> dict[str, str | None]:
    """A YAML mapping ``{corpus label: model label}``; ``null`` drops the class."""
    if path is None:
        return {}
    return dict(LabelMap.from_yaml(path).mapping)


def evaluate_run(
    run_dir: str | Path,
    data: str | Path,
    out_dir: str | Path,
    *,
    label_map: str | Path | None = None,
    perturb: Sequence[str] = (),
    seed: int = 0,
    babble: str | Path | None = None,
    progress: bool = True,
) -> dict[str, Any]:
    """Predict every readable clip of ``data`` with the run's model and write
    ``metrics.json``, ``predictions.csv`` and ``report.html`` into ``out_dir``; with
    ``perturb`` (SPECs of :mod:`audioclf.augment.perturb`), also score the clips under
    each corruption, seeded by ``seed`` (``metrics["perturbations"]``); babble is made
    from the manifest ``babble`` (see :func:`audioclf.evaluate.robustness.babble_source`
    for the default), recorded as ``metrics["babble_from"]``."""
    perturbations = parse_all(perturb)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    predictor = Predictor(run_dir)
    manifest = read_manifest(data)
    mapping = load_label_map(label_map)
    cache = FeatureCache()
    waves = cache.load_many(
        list(manifest), predictor.sample_rate, progress=progress, description="decoding"
    )
    clips, readable, skipped = [], [], []
    for clip, wave in zip(manifest, waves, strict=True):
        if isinstance(wave, AudioError):
            skipped.append({"path": clip.path, "reason": str(wave)})
            console.print(f"[yellow]skipped[/] {clip.path}: {wave}", highlight=False)
        else:
            clips.append(clip)
            readable.append(wave)
    probs = predictor.predict_clips(clips, readable, cache=cache)
    true = [c.label for c in clips]
    mapped: list[str | None] = apply_label_map(true, mapping) if mapping else list(true)
    metrics = score_with_label_map(mapped, probs, predictor.classes_)
    run_metrics = RunFolder(Path(run_dir)).read_metrics()
    metrics |= {
        "run": str(run_dir),
        "model": predictor.card.model,
        "params": predictor.card.params,
        "train_seconds": run_metrics.get("train_seconds"),
        "latency_ms": run_metrics.get("latency_ms"),
        "data": str(data),
        "label_map": mapping,
        "skipped": skipped,
    }
    if perturbations:
        talkers = None
        if any(p.babbles for p in perturbations):
            source = babble_source(clips, run_dir, babble)
            talkers = talker_pool(source, predictor.sample_rate, cache) if source else None
            metrics["babble_from"] = str(source) if source else "the scored clips"
        metrics["perturbations"] = score_perturbations(
            predictor, clips, readable, mapped, metrics, perturbations, seed=seed, talkers=talkers
        )
    write_json(out / "metrics.json", metrics)
    _write_predictions(out / "predictions.csv", clips, true, mapped, probs, predictor.classes_)
    write_eval_report(out)
    return metrics


def _write_predictions(
    path: Path,
    clips: list[Any],
    true: list[str],
    mapped: list[str | None],
    probs: np.ndarray,
    classes: list[str],
) -> None:
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["id", "path", "label", "mapped_label", "predicted", "confidence"])
        for clip, t, m, p in zip(clips, true, mapped, probs, strict=True):
            top = int(np.argmax(p)) if len(p) else -1
            writer.writerow([clip.id, clip.path, t, m or "", classes[top], f"{float(p[top]):.4f}"])

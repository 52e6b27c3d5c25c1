"""One model trained on one split, start to finish: splits → features → model → run folder.

:func:`train_single` is the whole story of a model named with ``--model``, top to bottom:
split the data (speaker-independent by default) and keep the exact split manifests,
decode through the cache, train (a torch model: best epoch on the validation split; a
classical one: train + validation), export ONNX and prove it matches, score the test split
once, measure CPU latency and the cost per second of audio by stage on the test clips
(:mod:`audioclf.inference.cost`), write metrics.json and report.html. ``auto`` trains
each of its candidates with it (:mod:`audioclf.train.auto`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from audioclf import progress as progress_report
from audioclf.console import console
from audioclf.evaluate.metrics import classification_metrics
from audioclf.evaluate.report import write_run_report
from audioclf.features.cache import FeatureCache
from audioclf.features.speaker_norm import NormStats
from audioclf.formats.atomic import write_json
from audioclf.formats.manifest import Manifest, SkippedFile, write_manifest
from audioclf.formats.runfolder import ModelCard, RunFolder, write_val_predictions
from audioclf.inference.cost import measure_cost
from audioclf.inference.latency import measure_latency
from audioclf.models import ModelInfo, model_info
from audioclf.train.classical import HeldOutEstimate, train_classical
from audioclf.train.config import TrainConfig
from audioclf.train.data import LoadedSplit, load_split
from audioclf.train.neural import train_neural
from audioclf.train.noise_views import NoiseViews, noise_views
from audioclf.train.outcome import known as known_clips
from audioclf.train.pooled import balance_corpora, corpora_of, per_corpus_metrics
from audioclf.train.splitting import make_splits, read_training_data
from audioclf.train.trainer import seed_everything, set_threads
from audioclf.train.vectors import load_vectors

POOL_FILE = "pool.json"
"""What pooling several manifests did (train/pooled.py), in a pooled run's folder."""


@dataclass
class RunResult:
    """A finished run: where it is and what it scored on its test split."""

    run_dir: Path
    metrics: dict[str, Any]
    card: ModelCard


def resolve_splits(
    config: TrainConfig,
    run: RunFolder,
    *,
    resume: bool,
    splits: dict[str, Manifest] | None,
) -> dict[str, Manifest]:
    """The run's train/val/test manifests — kept from before on ``resume``, else the given
    ``splits`` or a fresh split of ``config.data`` — written into ``run/splits/``."""
    if resume and run.has_splits():
        splits = run.read_splits()
    elif splits is None:
        manifest, pool_report = read_training_data(config)
        if pool_report is not None:
            write_json(run.root / POOL_FILE, pool_report)
        splits = make_splits(config, manifest)
    run.splits.mkdir(exist_ok=True)
    for name, part in splits.items():
        write_manifest(part, run.split(name))
    return splits


def train_single(
    config: TrainConfig,
    run: RunFolder,
    *,
    resume: bool = False,
    progress: bool = True,
    splits: dict[str, Manifest] | None = None,
    estimate: HeldOutEstimate | None = None,
) -> RunResult:
    """Train the zoo model ``config.model`` into ``run``; ``resume`` continues a killed run
    from its last checkpoint with the same splits, ``splits`` (train/val/test) overrides
    splitting, ``estimate`` adds held-out scores to a classical model's metrics."""
    run.root.mkdir(parents=True, exist_ok=True)
    config.to_yaml(run.config)
    set_threads(config.threads)
    seed_everything(config.seed)

    splits = resolve_splits(config, run, resume=resume, splits=splits)
    labels = _labels(splits)
    if len(labels) < 2:
        raise ValueError(f"training needs at least two classes; the train split has {labels}")
    info = model_info(config.model)
    _check_options(config, info)
    cache = FeatureCache()
    started = time.perf_counter()
    with progress_report.part(0.0, 0.2):
        noise = _noise(info.input, splits["train"], config, cache)
        loaded = {
            name: _load(info.input, part, labels, config, cache, progress, name, noise)
            for name, part in splits.items()
        }
    skipped = [s for part in loaded.values() for s in part.skipped]
    for item in skipped:
        console.print(f"[yellow]skipped[/] {item.path}: {item.reason}", highlight=False)
    if len(loaded["train"]) < 2:
        raise ValueError("fewer than two readable training clips")
    fit, factors = _balanced(loaded, config.balance_corpora)

    with progress_report.part(0.2, 0.9):
        if info.family == "classical":
            trained = train_classical(config, run, info, fit, labels, estimate=estimate)
        else:
            trained = train_neural(config, run, info, fit, labels, resume=resume, progress=progress)
    progress_report.step(0.9, 1.0, "testing")
    train_seconds = time.perf_counter() - started
    card = trained.card
    if card.speaker_norm:
        _write_norm_stats(run, card, known_clips(fit["train"], fit["val"]))

    test = loaded["test"]
    known = test.targets >= 0
    metrics: dict[str, Any] = {}
    if known.any():
        metrics = classification_metrics(test.targets[known], trained.test_probs[known], labels)
    else:
        console.print("[yellow]warning:[/] the test split is empty; no test metrics")
    metrics |= _run_facts(
        config, card, loaded, skipped, train_seconds, trained.best_epoch, trained.epochs_run
    )
    metrics |= trained.val
    metrics["n_unknown"] = int((~known).sum())
    corpora = _corpora(splits, factors)
    if corpora:
        metrics["corpora"] = corpora
        metrics["per_corpus"] = per_corpus_metrics(
            test.clips, test.targets, trained.test_probs, labels
        )
    progress_report.step(0.95, 1.0, "measuring its speed")
    metrics["latency_ms"] = measure_latency(run.root, seconds=_median_seconds(splits["test"]))
    metrics["cost"] = measure_cost(run.root, splits["test"])
    if trained.val_predictions is not None:
        write_val_predictions(run, trained.val_predictions)
    write_json(run.metrics, metrics)
    write_run_report(run.root)
    return RunResult(run.root, metrics, card)


def _balanced(
    loaded: dict[str, LoadedSplit], balance: bool
) -> tuple[dict[str, LoadedSplit], dict[str, int]]:
    """The splits a model is fitted on: the training clips of a pool's smaller corpora
    repeated to weigh as much as the largest (train/pooled.py) when ``balance``, and the
    repetition of each corpus."""
    if not balance:
        return loaded, {}
    train, factors = balance_corpora(loaded["train"])
    return {**loaded, "train": train}, factors


def _write_norm_stats(run: RunFolder, card: ModelCard, fit: LoadedSplit) -> None:
    """A speaker-normalised run's training statistics over the feature columns it is
    served (a clip alone is standardised with them)."""
    x = np.stack(fit.waves)
    width = x.shape[1] // (1 + len(card.train_speeds)) * (1 + len(card.speeds))
    NormStats.of(x[:, :width]).write(run.root)


def _corpora(splits: dict[str, Manifest], factors: dict[str, int]) -> dict[str, Any]:
    """Clips per corpus in each split, and the repetition that balanced the training
    corpora; empty for a run of one corpus."""
    names = sorted({name for part in splits.values() for name in corpora_of(part)})
    if len(names) < 2:
        return {}
    return {
        name: {
            **{f"n_{part}": sum(c.corpus == name for c in m) for part, m in splits.items()},
            "train_repeat": factors.get(name, 1),
        }
        for name in names
    }


def _check_options(config: TrainConfig, info: ModelInfo) -> None:
    """Speaker normalisation, speed and noise views are for feature-vector (classical)
    models."""
    if config.speaker_norm and info.family != "classical":
        raise ValueError(
            f"speaker_norm applies to the classical models (feature vectors); {config.model!r} "
            f"is a {info.family} model"
        )
    for name in ("speeds", "noise_views"):
        if getattr(config, name) and info.family != "classical":
            raise ValueError(
                f"{name} apply to the classical models (feature vectors); {config.model!r} is "
                f"a {info.family} model (its augmentation is `augment`)"
            )


def _labels(splits: dict[str, Manifest]) -> list[str]:
    labels = splits["train"].labels
    unseen = sorted(set(splits["val"].labels + splits["test"].labels) - set(labels))
    if unseen:
        console.print(
            f"[yellow]warning:[/] classes {unseen} are in val/test but not in train; "
            "they are reported as unknown, not scored"
        )
    return labels


def _load(
    kind: str,
    manifest: Manifest,
    labels: list[str],
    config: TrainConfig,
    cache: FeatureCache,
    progress: bool,
    name: str,
    noise: NoiseViews | None,
) -> LoadedSplit:
    """A split's waveforms or feature vectors; the training clips (train and validation)
    of a vector model with their noise views."""
    if kind == "waveform":
        return load_split(
            manifest,
            labels,
            config.sample_rate,
            cache=cache,
            progress=progress,
            description=f"decoding {name}",
            max_seconds=config.max_seconds,
        )
    return load_vectors(
        manifest,
        labels,
        config.sample_rate,
        kind,
        cache=cache,
        progress=progress,
        description=f"{kind} features {name}",
        speeds=config.speeds,
        noise=noise if name in ("train", "val") else None,
    )


def _noise(
    kind: str, train: Manifest, config: TrainConfig, cache: FeatureCache
) -> NoiseViews | None:
    """The run's noise views (a vector model's; babble from the training clips)."""
    if kind == "waveform" or not config.noise_views:
        return None
    return noise_views(config.noise_views, list(train), config.sample_rate, cache, config.seed)


def _median_seconds(manifest: Manifest) -> float:
    durations = [c.duration for c in manifest if c.duration]
    return float(np.median(durations)) if durations else 3.0


def _run_facts(
    config: TrainConfig,
    card: ModelCard,
    loaded: dict[str, LoadedSplit],
    skipped: list[SkippedFile],
    train_seconds: float,
    best_epoch: int,
    epochs_run: int,
) -> dict[str, Any]:
    return {
        "model": config.model,
        "family": card.family,
        "params": card.params,
        "train_seconds": round(train_seconds, 2),
        "best_epoch": best_epoch,
        "epochs_run": epochs_run,
        "split": config.split,
        "n_train": len(loaded["train"]),
        "n_val": len(loaded["val"]),
        "n_test": len(loaded["test"]),
        # classical models pick no epoch, so they also fit on the validation clips
        "fit_on": "train+val" if card.family == "classical" else "train",
        "speaker_norm": config.speaker_norm,
        "speeds": list(card.speeds),
        "noise_views": list(card.train_noise),
        "data": config.data,
        "pool": list(config.pool),
        "skipped": [{"path": s.path, "reason": s.reason} for s in skipped],
    }

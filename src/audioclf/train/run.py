"""One training run, start to finish: manifest → splits → model → run folder.

:func:`train_run` is the whole story, top to bottom: split the data (speaker-independent
by default) and keep the exact split manifests, decode through the cache, train with
best-epoch selection on the validation split, export ONNX and prove it matches, score the
test split once, measure CPU latency, write metrics.json and report.html.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from audioclf.console import console
from audioclf.evaluate.metrics import classification_metrics
from audioclf.export.neural import ExportError, export_onnx, verify_onnx
from audioclf.features.cache import FeatureCache
from audioclf.formats.atomic import write_json
from audioclf.formats.manifest import Manifest, SkippedFile, read_manifest
from audioclf.formats.runfolder import ModelCard, RunFolder, ValPredictions, write_val_predictions
from audioclf.inference.latency import measure_latency
from audioclf.models import count_parameters, model_info
from audioclf.models.build import build_torch_model
from audioclf.probabilities import label_order_proba
from audioclf.train.auto.inner_cv import inner_cv_scores
from audioclf.train.config import AUTO, TrainConfig
from audioclf.train.data import LoadedSplit, load_split, predict_split
from audioclf.train.splitting import make_splits
from audioclf.train.trainer import BEST_WEIGHTS, fit, seed_everything, set_threads
from audioclf.train.vectors import load_vectors

# the validation scores of the kept model: best epoch (torch) or fit on train alone (classical)
VAL_KEYS = ("val_accuracy", "val_balanced_accuracy")


@dataclass
class _Trained:
    """What one model family's training step hands back to :func:`train_run`."""

    card: ModelCard
    test_probs: np.ndarray
    best_epoch: int
    epochs_run: int
    val: dict[str, float]
    # the known validation clips scored by a model that did not train on them (None
    # without a validation split)
    val_predictions: ValPredictions | None = None


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
    from audioclf.formats.manifest import write_manifest

    if resume and run.has_splits():
        splits = run.read_splits()
    elif splits is None:
        if config.data is None:
            raise ValueError("no training data: give --data MANIFEST.jsonl")
        splits = make_splits(config, read_manifest(config.data))
    run.splits.mkdir(exist_ok=True)
    for name, part in splits.items():
        write_manifest(part, run.split(name))
    return splits


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
) -> LoadedSplit:
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
    )


def train_run(
    config: TrainConfig,
    out_dir: str | Path,
    *,
    resume: bool = False,
    progress: bool = True,
    splits: dict[str, Manifest] | None = None,
) -> RunResult:
    """Train ``config`` into ``out_dir``; ``resume`` continues a killed run from its last
    checkpoint with the same splits. ``splits`` (train/val/test) overrides splitting."""
    run = RunFolder(Path(out_dir))
    run.root.mkdir(parents=True, exist_ok=True)
    if resume and run.config.is_file():
        config = TrainConfig.from_yaml(run.config)
    if config.model == AUTO:
        from audioclf.train.auto.select import select_run

        return select_run(config, run, resume=resume, progress=progress, splits=splits)
    config.to_yaml(run.config)
    set_threads(config.threads)
    seed_everything(config.seed)

    splits = resolve_splits(config, run, resume=resume, splits=splits)
    labels = _labels(splits)
    if len(labels) < 2:
        raise ValueError(f"training needs at least two classes; the train split has {labels}")

    info = model_info(config.model)
    if config.speaker_norm and info.family != "classical":
        raise ValueError(
            f"speaker_norm applies to the classical models (feature vectors); {config.model!r} "
            f"is a {info.family} model"
        )
    if config.speeds and info.family != "classical":
        raise ValueError(
            f"speeds apply to the classical models (feature vectors); {config.model!r} is a "
            f"{info.family} model (its augmentation is `augment`)"
        )
    cache = FeatureCache()
    started = time.perf_counter()
    loaded = {
        name: _load(info.input, part, labels, config, cache, progress, name)
        for name, part in splits.items()
    }
    skipped = [s for part in loaded.values() for s in part.skipped]
    for item in skipped:
        console.print(f"[yellow]skipped[/] {item.path}: {item.reason}", highlight=False)
    if len(loaded["train"]) < 2:
        raise ValueError("fewer than two readable training clips")

    if info.family == "classical":
        trained = _train_classical(config, run, info, loaded, labels)
    else:
        trained = _train_torch(config, run, info, loaded, labels, resume=resume, progress=progress)
    train_seconds = time.perf_counter() - started
    card = trained.card

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
    metrics["latency_ms"] = measure_latency(run.root, seconds=_median_seconds(splits["test"]))
    if trained.val_predictions is not None:
        write_val_predictions(run, trained.val_predictions)
    write_json(run.metrics, metrics)
    from audioclf.evaluate.report import write_run_report

    write_run_report(run.root)
    return RunResult(run.root, metrics, card)


def _train_torch(
    config: TrainConfig,
    run: RunFolder,
    info: Any,
    loaded: dict[str, LoadedSplit],
    labels: list[str],
    *,
    resume: bool,
    progress: bool,
) -> _Trained:
    from audioclf.augment import build_augmentation

    n_classes = len(labels)
    if info.input == "waveform":
        seconds = (
            config.clip_seconds
            or config.model_options.get("clip_seconds")
            or auto_clip_seconds(loaded["train"].waves, config.sample_rate)
        )
        n_inputs = round(seconds * config.sample_rate)
        noise = Path(config.noise_dir) if config.noise_dir else None
        augment = build_augmentation(config.augment, noise_dir=noise)
    else:
        n_inputs = int(loaded["train"].waves[0].shape[0])
        augment = None
    seed_everything(config.seed)
    model = build_torch_model(
        config.model,
        n_classes,
        sample_rate=config.sample_rate,
        options=config.model_options,
        input_kind=info.input,
        n_inputs=n_inputs,
    )
    if info.input != "waveform":
        model.fit(np.stack(loaded["train"].waves))  # type: ignore[operator]
    result = fit(
        model,
        loaded["train"],
        loaded["val"],
        config,
        run.root,
        n_classes=n_classes,
        n_samples=n_inputs,
        augment=augment,
        resume=resume,
        progress=progress,
    )
    model.load_state_dict(result.best_state)
    model.eval()
    torch.save(result.best_state, run.root / BEST_WEIGHTS)
    input_name = "waveform" if info.input == "waveform" else "features"
    export_onnx(model, run.onnx, n_inputs, input_name=input_name)
    worst = verify_onnx(model, run.onnx, n_inputs, input_name=input_name)
    console.print(f"exported {run.onnx} (max |ΔP| vs PyTorch {worst:.1e})")
    card = ModelCard(
        model=config.model,
        family=info.family,
        input=info.input,
        sample_rate=config.sample_rate,
        n_samples=n_inputs,
        eval_hop=config.eval_hop,
        labels=labels,
        params=count_parameters(model),
        options=dict(config.model_options),
        onnx=True,
        weights=BEST_WEIGHTS,
        task=config.task,
    )
    run.write_card(card)
    probs = predict_split(model, loaded["test"].waves, n_inputs, hop=config.eval_hop)
    val: dict[str, float] = {}
    if result.history and "val_accuracy" in result.history[result.best_epoch - 1]:
        best = result.history[result.best_epoch - 1]
        val = {key: float(best[key]) for key in VAL_KEYS}
    seen = _known(loaded["val"])
    predictions = None
    if len(seen):
        val_probs = predict_split(model, seen.waves, n_inputs, hop=config.eval_hop)
        predictions = _val_predictions(seen, val_probs)
    return _Trained(card, probs, result.best_epoch, len(result.history), val, predictions)


def _train_classical(
    config: TrainConfig,
    run: RunFolder,
    info: Any,
    loaded: dict[str, LoadedSplit],
    labels: list[str],
) -> _Trained:
    """scikit-learn models: fit on train + validation (they have no epochs or checkpoints
    to pick on held-out clips, so the validation clips would otherwise be wasted)."""
    from audioclf.models import create_model
    from audioclf.models.classical import estimator_size, save_classical
    from audioclf.models.multiview import MultiView
    from audioclf.models.shared_fits import fit_shared

    def fresh() -> Any:
        model = create_model(
            config.model, len(labels), sample_rate=config.sample_rate, **config.model_options
        )
        return MultiView(model, views=1 + len(config.speeds)) if config.speeds else model

    # held-out estimates before the final fit on train + val: the validation clips scored
    # by a fit on train alone (as the torch models' best epoch is), and grouped k-fold CV
    # inside train + val (what `--model auto` compares; see train/inner_cv.py)
    val = _known(loaded["val"])
    val_scores: dict[str, float] = {}
    predictions = None
    if len(val):
        first = _known(loaded["train"])
        probe = fit_shared(fresh(), _vectors(first, config.speaker_norm), first.targets)
        val_probs = label_order_proba(probe, _vectors(val, config.speaker_norm), len(labels))
        predictions = _val_predictions(val, val_probs)
        scores = classification_metrics(val.targets, val_probs, labels)
        val_scores = {
            "val_accuracy": scores["accuracy"],
            "val_balanced_accuracy": scores["balanced_accuracy"],
        }
    train = _known(loaded["train"], loaded["val"])
    x_train = _vectors(train, config.speaker_norm)
    groups = [clip.speaker or clip.id for clip in train.clips]
    val_scores |= inner_cv_scores(fresh, x_train, train.targets, groups, labels, seed=config.seed)
    # the same model on the same rows (a ComParE expert of several auto candidates) is
    # fitted once per process (models/shared_fits.py)
    estimator = fit_shared(fresh(), x_train, train.targets)
    weights = "model.joblib"
    save_classical(estimator, run.root / weights)
    test = loaded["test"]
    x_test = _vectors(test, config.speaker_norm) if len(test) else x_train[:0]
    onnx = _export_classical(estimator, run, np.concatenate([x_train[:256], x_test]))
    card = ModelCard(
        model=config.model,
        family=info.family,
        input=info.input,
        sample_rate=config.sample_rate,
        n_samples=int(train.waves[0].shape[0]),
        eval_hop=config.eval_hop,
        labels=labels,
        params=estimator_size(estimator),
        options=dict(config.model_options),
        onnx=onnx,
        weights=weights,
        task=config.task,
        speaker_norm=config.speaker_norm,
        speeds=list(config.speeds),
    )
    run.write_card(card)
    if not len(test):
        empty = np.zeros((0, len(labels)), dtype=np.float32)
        return _Trained(card, empty, 1, 1, val_scores, predictions)
    probs = label_order_proba(estimator, x_test, len(labels))
    return _Trained(card, probs, 1, 1, val_scores, predictions)


def _export_classical(estimator: Any, run: RunFolder, rows: np.ndarray) -> bool:
    """model.onnx for a classical run (feature vector in), checked against scikit-learn
    on real feature rows; False, with the reason shown, when the model cannot have one
    (a class missing from training: its columns would not match labels.json)."""
    from audioclf.export.classical import (
        export_classical_onnx,
        verify_classical_onnx,
    )

    try:
        export_classical_onnx(estimator, run.onnx, rows.shape[1])
    except ExportError as err:
        run.onnx.unlink(missing_ok=True)
        console.print(f"[yellow]note:[/] no model.onnx for this run: {err}", highlight=False)
        return False
    worst = verify_classical_onnx(estimator, run.onnx, rows)
    console.print(f"exported {run.onnx} (max |ΔP| vs scikit-learn {worst:.1e})")
    return True


def _known(*parts: LoadedSplit) -> LoadedSplit:
    """The clips of ``parts`` whose label the model knows, as one split."""
    keep = [(c, w, t) for p in parts for c, w, t in zip(p.clips, p.waves, p.targets, strict=True)]
    keep = [row for row in keep if row[2] >= 0]
    return LoadedSplit(
        [c for c, _, _ in keep],
        [w for _, w, _ in keep],
        np.array([t for _, _, t in keep], dtype=np.int64),
    )


def _val_predictions(split: LoadedSplit, probs: np.ndarray) -> ValPredictions:
    return ValPredictions([clip.id for clip in split.clips], probs, split.targets)


def _vectors(split: LoadedSplit, speaker_norm: bool) -> np.ndarray:
    """The split's feature matrix, standardised per speaker when asked."""
    x = np.stack(split.waves)
    if not speaker_norm:
        return x
    from audioclf.features.speaker_norm import standardise_per_speaker

    return standardise_per_speaker(x, [clip.speaker for clip in split.clips])


def auto_clip_seconds(waves: Sequence[np.ndarray], sample_rate: int) -> float:
    """The training crop when the config names none: the median clip duration, rounded
    to 0.25 s and kept within 1–4 s. Crops much longer than most clips train mostly on
    padding; much shorter ones cut the cue (a word, an emotional contour) in half."""
    if not waves:
        return 3.0
    median = float(np.median([len(w) for w in waves])) / sample_rate
    return float(min(4.0, max(1.0, round(median * 4) / 4)))


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
        "data": config.data,
        "skipped": [{"path": s.path, "reason": s.reason} for s in skipped],
    }

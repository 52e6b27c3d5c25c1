"""Train a torch model of the zoo: best epoch on the validation split, ONNX export proven
against PyTorch, the test split scored once."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from audioclf.augment import build_augmentation
from audioclf.console import console
from audioclf.export.neural import export_onnx, verify_onnx
from audioclf.formats.runfolder import ModelCard, RunFolder
from audioclf.models import ModelInfo, count_parameters
from audioclf.models.build import build_torch_model
from audioclf.train.config import TrainConfig
from audioclf.train.data import LoadedSplit, predict_split
from audioclf.train.outcome import VAL_KEYS, Trained, known, val_predictions
from audioclf.train.trainer import BEST_WEIGHTS, fit, seed_everything


def train_neural(
    config: TrainConfig,
    run: RunFolder,
    info: ModelInfo,
    loaded: dict[str, LoadedSplit],
    labels: list[str],
    *,
    resume: bool,
    progress: bool,
) -> Trained:
    """Fit ``config.model`` on the train split, keep its best epoch on validation, export
    and check it, and score the test split."""
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
    seen = known(loaded["val"])
    predictions = None
    if len(seen):
        val_probs = predict_split(model, seen.waves, n_inputs, hop=config.eval_hop)
        predictions = val_predictions(seen, val_probs)
    return Trained(card, probs, result.best_epoch, len(result.history), val, predictions)


def auto_clip_seconds(waves: Sequence[np.ndarray], sample_rate: int) -> float:
    """The training crop when the config names none: the median clip duration, rounded
    to 0.25 s and kept within 1–4 s. Crops much longer than most clips train mostly on
    padding; much shorter ones cut the cue (a word, an emotional contour) in half."""
    if not waves:
        return 3.0
    median = float(np.median([len(w) for w in waves])) / sample_rate
    return float(min(4.0, max(1.0, round(median * 4) / 4)))

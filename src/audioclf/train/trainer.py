"""The training loop: AdamW, warm-up + cosine, label smoothing, class weights, early
stopping on the validation split, a checkpoint every epoch and resume after a kill.

Read it top to bottom: :func:`fit` is the whole loop. A checkpoint is a plain dict
(model, optimizer, scheduler, epoch, best metric and weights, history, RNG states) —
enough to resume exactly where a killed run stopped.
"""

from __future__ import annotations

import csv
import math
import random
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from rich.progress import TextColumn
from torch import nn
from torch.optim.swa_utils import AveragedModel

from audioclf import progress as progress_report
from audioclf.console import console, progress_bar
from audioclf.evaluate.metrics import classification_metrics
from audioclf.features.threads import available_cores
from audioclf.formats.atomic import atomic_path
from audioclf.train.config import TrainConfig
from audioclf.train.data import Augment, LoadedSplit, class_weights, predict_split, train_batches

CHECKPOINT = "checkpoint.pt"
BEST_WEIGHTS = "model.pt"
HISTORY = "history.csv"

Batch = tuple[torch.Tensor, torch.Tensor, torch.Tensor]
"""Inputs, class indices (what the train accuracy counts) and target rows (what the loss
and mixup see)."""
Batches = Callable[[np.random.Generator], Iterable[Batch]]
"""One epoch of batches, drawn from the training loop's generator."""
Criterion = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
"""Loss of ``(logits, target rows)``."""


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch; deterministic algorithms where torch has them."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True, warn_only=True)


def set_threads(threads: int | None) -> int:
    """Use the machine's cores for intra-op parallelism (and no more)."""
    n = threads or available_cores()
    torch.set_num_threads(n)
    return n


def warmup_cosine(step: int, warmup: int, total: int) -> float:
    """LR multiplier: linear warm-up to 1, then cosine decay to 0 at ``total``."""
    if step < warmup:
        return (step + 1) / warmup
    progress = (step - warmup) / max(1, total - warmup)
    return 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress)))


def budget_epochs(budget_seconds: float, epochs_done: int, seconds_so_far: float) -> int:
    """How many epochs fit in ``budget_seconds``, judged by the mean epoch so far (at least
    the ones already done, and at least one). Pure, so the trainer's plan is testable."""
    if epochs_done < 1 or seconds_so_far <= 0:
        raise ValueError("budget_epochs needs at least one timed epoch")
    per_epoch = seconds_so_far / epochs_done
    more = int((budget_seconds - seconds_so_far) // per_epoch)
    return max(1, epochs_done + max(0, more))


def _replan(plan: dict[str, int], config: TrainConfig, done: int, seconds: float) -> None:
    """Set the planned epochs to what fits in the budget, never more than ``--epochs``.

    The plan is re-estimated after every epoch and may grow back when the first epochs
    were slow (warm-up, a busy machine), so the budget is used, not just respected.
    """
    budget = config.time_budget
    if budget is None:
        return
    fits = min(config.epochs, budget_epochs(budget * 60, done, seconds))
    if fits != plan["epochs"]:
        console.print(
            f"time budget {budget:g} min: {fits} of {config.epochs} epochs fit "
            f"({seconds / done:.1f} s per epoch so far)"
        )
        plan["epochs"] = fits


def ema_with_warmup(decay: float) -> Callable[[torch.Tensor, torch.Tensor, Any], torch.Tensor]:
    """An ``AveragedModel`` update whose decay grows as ``(1 + n) / (10 + n)`` up to
    ``decay``: a fixed decay would keep the random initial weights (and their batch-norm
    statistics) in the average for hundreds of steps, which small data sets never reach."""

    def update(averaged: torch.Tensor, current: torch.Tensor, n: Any) -> torch.Tensor:
        d = min(decay, (1.0 + float(n)) / (10.0 + float(n)))
        return d * averaged + (1.0 - d) * current

    return update


@dataclass
class FitResult:
    """What training produced: best weights, when, and the per-epoch history."""

    best_state: dict[str, torch.Tensor]
    best_epoch: int
    best_metric: float
    history: list[dict[str, float]] = field(default_factory=list)
    seconds: float = 0.0
    stopped_early: bool = False


def _one_hot(pairs: Iterable[tuple[torch.Tensor, torch.Tensor]], n_classes: int) -> Iterator[Batch]:
    """``(x, y)`` batches with one-hot target rows."""
    for x, y in pairs:
        yield x, y, nn.functional.one_hot(y, n_classes).float()


def _atomic_save(obj: Any, path: Path) -> None:
    with atomic_path(path) as tmp:
        torch.save(obj, tmp)


def _write_history(rows: list[dict[str, float]], path: Path) -> None:
    if not rows:
        return
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def evaluate_loss(
    model: nn.Module, split: LoadedSplit, n_samples: int, config: TrainConfig
) -> tuple[float, dict[str, Any]]:
    """Validation loss (on whole-clip averaged probabilities) and metrics."""
    model.eval()
    probs = predict_split(model, split.waves, n_samples, hop=config.eval_hop)
    known = split.targets >= 0
    p = np.clip(probs[known, split.targets[known]], 1e-7, 1.0)
    loss = float(-np.log(p).mean()) if len(p) else float("nan")
    labels = [str(i) for i in range(probs.shape[1])]
    metrics = classification_metrics(split.targets[known], probs[known], labels)
    return loss, metrics


def fit(
    model: nn.Module,
    train: LoadedSplit,
    val: LoadedSplit,
    config: TrainConfig,
    run_dir: Path,
    *,
    n_classes: int,
    n_samples: int,
    augment: Augment | None = None,
    resume: bool = False,
    progress: bool = True,
    batches: Batches | None = None,
    criterion: Criterion | None = None,
) -> FitResult:
    """Train ``model`` on ``train``, select the best epoch on ``val`` (never the test set).

    By default a batch is random crops of ``train`` with one-hot targets and the loss is
    the cross-entropy. ``batches`` and ``criterion`` replace them — the targets are then
    whatever rows ``batches`` yields (mixup mixes them like one-hot rows) and ``train``
    only sets the steps per epoch and the class weights — which is how
    :mod:`audioclf.train.distill` trains on a teacher's probabilities.
    """
    run_dir.mkdir(parents=True, exist_ok=True)
    steps_per_epoch = max(1, math.ceil(len(train) / config.batch_size))
    # The planned number of epochs; a time budget re-plans it after each epoch, and the
    # cosine schedule follows the plan, so a cut run still ends at a low learning rate.
    plan = {"epochs": config.epochs}
    warmup = int(config.warmup_epochs * steps_per_epoch)
    optimizer = torch.optim.AdamW(
        model.parameters(), lr=config.lr, weight_decay=config.weight_decay
    )
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: warmup_cosine(step, warmup, steps_per_epoch * plan["epochs"])
    )
    # The exponential moving average of the weights (and BN statistics) is what is
    # validated and kept: on a few hundred clips the raw weights' validation score swings
    # from epoch to epoch, and picking the luckiest epoch overfits the validation split.
    averaged = (
        AveragedModel(model, avg_fn=ema_with_warmup(config.ema), use_buffers=True)
        if config.ema > 0
        else None
    )
    judged: nn.Module = averaged.module if averaged is not None else model
    weights = class_weights(train.targets, n_classes) if config.class_weights else None
    loss_of: Criterion = criterion or nn.CrossEntropyLoss(
        weight=weights, label_smoothing=config.label_smoothing
    )
    rng = np.random.default_rng(config.seed)

    start_epoch = 0
    best_metric = -math.inf
    best_loss = math.inf
    best_epoch = 0
    best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
    bad_epochs = 0
    history: list[dict[str, float]] = []
    elapsed = 0.0
    checkpoint_path = run_dir / CHECKPOINT
    if resume and checkpoint_path.is_file():
        ckpt = torch.load(checkpoint_path, map_location="cpu", weights_only=False)
        model.load_state_dict(ckpt["model"])
        optimizer.load_state_dict(ckpt["optimizer"])
        scheduler.load_state_dict(ckpt["scheduler"])
        if averaged is not None and ckpt.get("averaged") is not None:
            averaged.load_state_dict(ckpt["averaged"])
        start_epoch = ckpt["epoch"]
        best_metric, best_loss = ckpt["best_metric"], ckpt["best_loss"]
        best_epoch, best_state = ckpt["best_epoch"], ckpt["best_state"]
        bad_epochs, history, elapsed = ckpt["bad_epochs"], ckpt["history"], ckpt["seconds"]
        plan["epochs"] = ckpt.get("planned_epochs", config.epochs)
        rng.bit_generator.state = ckpt["numpy_rng"]
        torch.set_rng_state(ckpt["torch_rng"])
        console.print(f"resuming {run_dir} after epoch {start_epoch}/{plan['epochs']}")
        if ckpt.get("finished"):
            return FitResult(best_state, best_epoch, best_metric, history, elapsed, True)

    stopped_early = False
    columns = TextColumn("{task.fields[status]}")
    with progress_bar(columns) as bar:
        task = bar.add_task(
            "training",
            total=steps_per_epoch * plan["epochs"],
            completed=start_epoch * steps_per_epoch,
            status="",
            visible=progress,
        )
        for epoch in range(start_epoch, plan["epochs"]):
            t0 = time.perf_counter()
            model.train()
            loss_sum, correct, seen = 0.0, 0, 0
            epoch_batches = (
                batches(rng)
                if batches is not None
                else _one_hot(
                    train_batches(
                        train, config.batch_size, n_samples, config.sample_rate, rng, augment
                    ),
                    n_classes,
                )
            )
            for batch_index, (x, y, target) in enumerate(epoch_batches, 1):
                if config.mixup > 0 and len(y) > 1:
                    lam = float(rng.beta(config.mixup, config.mixup))
                    perm = torch.from_numpy(rng.permutation(len(y)))
                    x = lam * x + (1 - lam) * x[perm]
                    target = lam * target + (1 - lam) * target[perm]
                logits = model(x)
                loss = loss_of(logits, target)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
                optimizer.step()
                scheduler.step()
                if averaged is not None:
                    averaged.update_parameters(model)
                loss_sum += loss.item() * len(y)
                correct += int((logits.argmax(-1) == y).sum())
                seen += len(y)
                bar.update(
                    task,
                    advance=1,
                    status=f"epoch {epoch + 1} loss {loss_sum / seen:.3f} acc {correct / seen:.3f}",
                )
                progress_report.step(
                    epoch * steps_per_epoch + batch_index,
                    steps_per_epoch * plan["epochs"],
                    f"training, epoch {epoch + 1}/{plan['epochs']}",
                )
            row: dict[str, float] = {
                "epoch": epoch + 1,
                "train_loss": loss_sum / max(seen, 1),
                "train_accuracy": correct / max(seen, 1),
            }
            if len(val):
                val_loss, val_metrics = evaluate_loss(judged, val, n_samples, config)
                metric = val_metrics["balanced_accuracy"]
                row |= {
                    "val_loss": val_loss,
                    "val_accuracy": val_metrics["accuracy"],
                    "val_balanced_accuracy": metric,
                }
            else:  # no validation split: the last epoch is the one kept
                val_loss, metric = row["train_loss"], float(epoch)
            lr = float(scheduler.get_last_lr()[0])
            row |= {"lr": lr, "seconds": time.perf_counter() - t0}
            history.append(row)
            elapsed += row["seconds"]
            improved = metric > best_metric or (metric == best_metric and val_loss < best_loss)
            if improved:
                best_metric, best_loss, best_epoch = metric, val_loss, epoch + 1
                best_state = {k: v.detach().clone() for k, v in judged.state_dict().items()}
                bad_epochs = 0
            else:
                bad_epochs += 1
            if len(val):
                bar.console.print(
                    f"epoch {epoch + 1:3d}  train loss {row['train_loss']:.3f} "
                    f"acc {row['train_accuracy']:.3f}  val loss {val_loss:.3f} "
                    f"UA {metric:.3f}{'  *' if improved else ''}",
                    highlight=False,
                )
            _replan(plan, config, epoch + 1, elapsed)
            bar.update(task, total=steps_per_epoch * plan["epochs"])
            stopped_early = bad_epochs >= config.patience
            finished = stopped_early or epoch + 1 >= plan["epochs"]
            _atomic_save(
                {
                    "model": model.state_dict(),
                    "optimizer": optimizer.state_dict(),
                    "scheduler": scheduler.state_dict(),
                    "averaged": averaged.state_dict() if averaged is not None else None,
                    "epoch": epoch + 1,
                    "best_metric": best_metric,
                    "best_loss": best_loss,
                    "best_epoch": best_epoch,
                    "best_state": best_state,
                    "bad_epochs": bad_epochs,
                    "history": history,
                    "seconds": elapsed,
                    "numpy_rng": rng.bit_generator.state,
                    "torch_rng": torch.get_rng_state(),
                    "config": config.model_dump(mode="json"),
                    "finished": finished,
                    "planned_epochs": plan["epochs"],
                },
                checkpoint_path,
            )
            _write_history(history, run_dir / HISTORY)
            if finished:
                if stopped_early:
                    console.print(
                        f"early stop: no validation improvement for {config.patience} epochs"
                    )
                break
    return FitResult(best_state, best_epoch, best_metric, history, elapsed, stopped_early)

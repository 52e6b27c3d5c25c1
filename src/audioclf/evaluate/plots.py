"""The evaluation plots: one function per PNG, each drawn with matplotlib's Agg backend and
closed after saving, sized so that 35 classes stay readable.

Every function takes plain data (lists, dicts, a CSV path) as found in a run folder's
``metrics.json`` / ``history.csv`` and returns the path it wrote.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

DPI = 110


def _save(fig: Figure, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=DPI)
    plt.close(fig)
    return path


def _label_fontsize(n: int) -> float:
    """Tick-label size that keeps ``n`` class names legible."""
    return 10.0 if n <= 10 else 8.0 if n <= 20 else 6.5


def plot_confusion(
    confusion: Sequence[Sequence[float]] | np.ndarray,
    labels: Sequence[str],
    path: str | Path,
    *,
    normalized: bool,
    title: str,
) -> Path:
    """Confusion matrix (rows = true class, columns = predicted) with annotated cells.

    With ``normalized`` the cells are row percentages (each true class sums to 100 %);
    otherwise counts. Rows of an all-zero class stay zero.
    """
    counts = np.asarray(confusion, dtype=float)
    n = len(labels)
    if counts.shape != (n, n):
        raise ValueError(f"confusion of shape {counts.shape} does not match {n} labels")
    if normalized:
        totals = counts.sum(axis=1, keepdims=True)
        # an already-normalised matrix has rows summing to 1; scale to percent either way
        with np.errstate(invalid="ignore", divide="ignore"):
            values = np.nan_to_num(counts / totals) * 100.0
    else:
        values = counts
    side = max(4.5, 0.38 * n + 2.5)
    fig, ax = plt.subplots(figsize=(side + 1.0, side))
    image = ax.imshow(values, cmap="Blues", vmin=0, vmax=100 if normalized else None)
    fig.colorbar(
        image, ax=ax, fraction=0.046, pad=0.04, label="% of true class" if normalized else "clips"
    )
    fontsize = _label_fontsize(n)
    ax.set_xticks(range(n), labels=list(labels), rotation=60, ha="right", fontsize=fontsize)
    ax.set_yticks(range(n), labels=list(labels), fontsize=fontsize)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title)
    threshold = (values.max() or 1.0) / 2.0
    cell_font = 9.0 if n <= 10 else 7.0 if n <= 20 else 5.0
    for i in range(n):
        for j in range(n):
            value = values[i, j]
            if value == 0 and n > 10:
                continue  # keep large matrices readable: blank instead of a sea of zeros
            text = f"{value:.0f}" if normalized or float(value).is_integer() else f"{value:.1f}"
            color = "white" if value > threshold else "black"
            ax.text(j, i, text, ha="center", va="center", fontsize=cell_font, color=color)
    return _save(fig, path)


def plot_reliability(
    reliability_bins: Sequence[Mapping[str, float]], path: str | Path, ece: float
) -> Path:
    """Reliability diagram: accuracy against mean confidence per bin, with the diagonal of
    perfect calibration, bar widths of the bins and clip counts underneath."""
    fig, (ax, ax_count) = plt.subplots(
        2, 1, figsize=(5.5, 6.0), sharex=True, gridspec_kw={"height_ratios": [3, 1]}
    )
    lowers = np.array([b["lower"] for b in reliability_bins], dtype=float)
    uppers = np.array([b["upper"] for b in reliability_bins], dtype=float)
    counts = np.array([b["count"] for b in reliability_bins], dtype=float)
    accuracy = np.array([b["accuracy"] for b in reliability_bins], dtype=float)
    confidence = np.array([b["confidence"] for b in reliability_bins], dtype=float)
    widths = uppers - lowers
    filled = counts > 0
    ax.plot([0, 1], [0, 1], linestyle="--", color="grey", label="perfect calibration")
    ax.bar(
        lowers[filled],
        accuracy[filled],
        width=widths[filled],
        align="edge",
        color="#4c72b0",
        edgecolor="white",
        label="accuracy",
    )
    low = np.minimum(accuracy, confidence)[filled]
    gap = np.abs(confidence - accuracy)[filled]
    ax.bar(
        lowers[filled],
        gap,
        bottom=low,
        width=widths[filled],
        align="edge",
        facecolor="none",
        edgecolor="#c44e52",
        hatch="//",
        label="gap to confidence",
    )
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_ylabel("accuracy")
    ax.set_title(f"Reliability (ECE = {ece:.3f})")
    ax.legend(loc="upper left", fontsize=8)
    ax_count.bar(lowers, counts, width=widths, align="edge", color="#8c8c8c")
    ax_count.set_xlabel("confidence of the top class")
    ax_count.set_ylabel("clips")
    return _save(fig, path)


def _read_history(history_csv: str | Path) -> dict[str, list[float]]:
    columns: dict[str, list[float]] = {}
    with Path(history_csv).open(newline="") as f:
        for row in csv.DictReader(f):
            for key, value in row.items():
                if key is None or value in (None, ""):
                    continue
                try:
                    columns.setdefault(key, []).append(float(value))
                except ValueError:
                    continue
    return columns


def best_epoch(history: Mapping[str, Sequence[float]]) -> int | None:
    """The epoch with the best validation UA (else val accuracy, else lowest val/train loss)."""
    epochs = history.get("epoch", [])
    for key, better in (
        ("val_balanced_accuracy", max),
        ("val_accuracy", max),
        ("val_loss", min),
        ("train_loss", min),
    ):
        values = history.get(key, [])
        if values and len(values) == len(epochs):
            return int(epochs[values.index(better(values))])
    return None


def plot_training_curves(history_csv: str | Path, path: str | Path) -> Path:
    """Loss and accuracy (and UA when present) against epoch for train and val, with the
    best epoch marked by a dotted line."""
    history = _read_history(history_csv)
    epochs = history.get("epoch", [])
    if not epochs:
        raise ValueError(f"{history_csv}: no epochs recorded; was the run trained?")
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(10.0, 4.0))
    for ax, series in (
        (ax_loss, (("train_loss", "train"), ("val_loss", "val"))),
        (
            ax_acc,
            (
                ("train_accuracy", "train accuracy"),
                ("val_accuracy", "val accuracy (WA)"),
                ("val_balanced_accuracy", "val UA"),
            ),
        ),
    ):
        for key, label in series:
            values = history.get(key)
            if values and len(values) == len(epochs):
                ax.plot(epochs, values, marker="o" if len(epochs) <= 30 else None, label=label)
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
    best = best_epoch(history)
    if best is not None:
        for ax in (ax_loss, ax_acc):
            ax.axvline(best, color="green", linestyle=":", label=f"best epoch ({best})")
    ax_loss.set_ylabel("loss")
    ax_loss.set_title("Loss")
    ax_acc.set_ylabel("accuracy")
    ax_acc.set_ylim(0, 1.02)
    ax_acc.set_title("Accuracy")
    ax_loss.legend(fontsize=8)
    ax_acc.legend(fontsize=8, loc="lower right")
    return _save(fig, path)


def plot_per_class(metrics: Mapping[str, Any], path: str | Path) -> Path:
    """Horizontal precision / recall / F1 bars per class (one row per class, so 35 classes
    fit), with each class's test support in its label."""
    per_class: Mapping[str, Mapping[str, float]] = metrics["per_class"]
    labels = list(per_class)
    n = len(labels)
    fig, ax = plt.subplots(figsize=(8.0, max(3.0, 0.42 * n + 1.2)))
    y = np.arange(n)
    height = 0.27
    for k, (key, color) in enumerate(
        (("precision", "#4c72b0"), ("recall", "#dd8452"), ("f1", "#55a868"))
    ):
        values = [float(per_class[label][key]) for label in labels]
        ax.barh(y + (k - 1) * height, values, height=height, color=color, label=key)
    names = [f"{label} (n={int(per_class[label].get('support', 0))})" for label in labels]
    ax.set_yticks(y, labels=names, fontsize=_label_fontsize(n))
    ax.set_ylim(n - 0.5, -0.5)  # first class on top, no empty margin
    ax.set_xlim(0, 1)
    ax.set_xlabel("score")
    ax.set_title("Per-class precision, recall and F1")
    ax.grid(axis="x", alpha=0.3)
    ax.legend(loc="lower right", fontsize=8)
    return _save(fig, path)


def plot_fold_scores(folds: Sequence[Mapping[str, Any]], path: str | Path) -> Path:
    """Accuracy (WA), UA and macro-F1 of each cross-validation fold, with the mean of each
    as a dashed line."""
    keys = (("accuracy", "WA"), ("balanced_accuracy", "UA"), ("macro_f1", "macro-F1"))
    n = len(folds)
    fig, ax = plt.subplots(figsize=(max(5.0, 0.6 * n + 3.0), 4.0))
    x = np.arange(n)
    width = 0.27
    colors = ("#4c72b0", "#dd8452", "#55a868")
    for k, ((key, name), color) in enumerate(zip(keys, colors, strict=True)):
        values = np.array([float(fold.get(key, math.nan)) for fold in folds])
        ax.bar(x + (k - 1) * width, np.nan_to_num(values), width=width, color=color, label=name)
        if np.isfinite(values).any():
            ax.axhline(float(np.nanmean(values)), color=color, linestyle="--", linewidth=1)
    ax.set_xticks(x, labels=[f"fold {i + 1}" for i in range(n)], rotation=45 if n > 8 else 0)
    ax.set_ylim(0, 1)
    ax.set_ylabel("score")
    ax.set_title("Scores per fold (dashed: mean)")
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=8)
    return _save(fig, path)


def plot_front(points: Sequence[Mapping[str, Any]], path: str | Path) -> Path:
    """``auto``'s trained models as validation UA against latency per clip (log scale):
    the front (no model both faster and more accurate) joined by a line, the served
    model ringed. ``points`` are the rows of ``selection.front`` in metrics.json."""
    rows = [p for p in points if p.get("latency_ms") and p.get("val_balanced_accuracy") is not None]
    fig, ax = plt.subplots(figsize=(6.5, 4.2))
    front = sorted((p for p in rows if p.get("on_front")), key=lambda p: p["latency_ms"])
    if front:
        ax.plot(
            [p["latency_ms"] for p in front],
            [p["val_balanced_accuracy"] for p in front],
            color="#4c72b0",
            linewidth=1,
            drawstyle="steps-post",
            label="front",
        )
    for p in rows:
        x, y = float(p["latency_ms"]), float(p["val_balanced_accuracy"])
        ax.scatter([x], [y], color="#4c72b0" if p.get("on_front") else "#999999", zorder=3)
        if p.get("served"):
            ax.scatter([x], [y], s=220, facecolors="none", edgecolors="#c44e52", zorder=4)
        ax.annotate(str(p["model"]), (x, y), textcoords="offset points", xytext=(5, 4), fontsize=8)
    ax.set_xscale("log")
    ax.set_xlabel("latency per 3-s clip, ms (log scale)")
    ax.set_ylabel("validation UA")
    ax.set_title("Accuracy against latency (ringed: served)")
    ax.grid(alpha=0.3)
    return _save(fig, path)


def plot_accuracy_vs_snr(
    rows: Sequence[Mapping[str, Any]], clean: float | None, path: str | Path
) -> Path:
    """Accuracy under additive noise against its SNR, one line per noise (``family`` of
    the rows of ``metrics["perturbations"]`` that have an ``snr``), clean dashed."""
    fig, ax = plt.subplots(figsize=(6.5, 4.2))
    families: dict[str, list[tuple[float, float]]] = {}
    for row in rows:
        if row.get("snr") is not None and row.get("accuracy") is not None:
            families.setdefault(str(row["family"]), []).append(
                (float(row["snr"]), float(row["accuracy"]))
            )
    for family, points in sorted(families.items()):
        points.sort()
        ax.plot([p[0] for p in points], [p[1] for p in points], marker="o", label=family)
    if clean is not None:
        ax.axhline(clean, color="#555555", linestyle="--", linewidth=1, label="clean")
    ax.set_xlabel("SNR, dB")
    ax.set_ylabel("accuracy (WA)")
    ax.set_ylim(0, 1.02)
    ax.set_title("Accuracy under noise")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return _save(fig, path)


def plot_perturbations(
    rows: Sequence[Mapping[str, Any]], clean: float | None, path: str | Path
) -> Path:
    """Accuracy under every perturbation as horizontal bars, clean as a dashed line."""
    scored = [r for r in rows if r.get("accuracy") is not None]
    fig, ax = plt.subplots(figsize=(6.5, max(2.0, 0.35 * len(scored) + 1.2)))
    names = [str(r["spec"]) for r in scored]
    ax.barh(range(len(scored)), [float(r["accuracy"]) for r in scored], color="#4c72b0")
    ax.set_yticks(range(len(scored)), names, fontsize=8)
    ax.invert_yaxis()
    if clean is not None:
        ax.axvline(clean, color="#555555", linestyle="--", linewidth=1, label="clean")
        ax.legend(fontsize=8, loc="lower right")
    ax.set_xlim(0, 1.0)
    ax.set_xlabel("accuracy (WA)")
    ax.set_title("Accuracy under each perturbation")
    ax.grid(alpha=0.3, axis="x")
    return _save(fig, path)

"""The PNG plots of the data report: one function per plot, each saving one file.

Every function takes the per-clip measures (:class:`~audioclf.data.quality.ClipQuality`) and
the PNG path, and returns the path — or None when the plot would say nothing (no speakers,
no genders). Bar charts with category names are horizontal and grow with the number of
categories, so 24 speakers or 35 classes keep readable labels.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from itertools import pairwise
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from audioclf.data.quality import ClipQuality

MAX_NAMED = 60
"""Above this many speakers (or classes) per-name bars and the heat map are not drawn."""
GENDER_COLOURS = {"female": "#d95f02", "male": "#1b9e77", "unknown": "#9e9e9e"}
BAR_COLOUR = "#4c72b0"
TRIM_COLOUR = "#dd8452"
LEGEND_ABOVE: dict[str, Any] = {
    "loc": "lower right",
    "bbox_to_anchor": (1.0, 1.0),
    "ncol": 3,
    "fontsize": 8,
    "frameon": False,
}
"""Legend just above the top-right corner of the axes, clear of the bars."""


def natural_key(text: str) -> list[int | str]:
    """Sort key that puts ``s2`` before ``s10``."""
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", text)]


def _sorted_names(names: Iterable[str]) -> list[str]:
    return sorted(set(names), key=natural_key)


def _bar_height(n: int) -> float:
    """Figure height (inches) for a horizontal bar chart of ``n`` bars."""
    return max(3.0, 0.28 * n + 1.4)


def _save(fig: Figure, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def _label_bars(ax: plt.Axes, values: Sequence[float], positions: Sequence[float]) -> None:
    """Write each bar's count at its end."""
    top = max(values, default=0) or 1
    for value, pos in zip(values, positions, strict=True):
        ax.text(value + top * 0.01, pos, f"{value:g}", va="center", fontsize=8)
    ax.set_xlim(0, top * 1.12)


def plot_class_counts(qualities: Sequence[ClipQuality], path: Path) -> Path:
    """Clips per class, as horizontal bars, largest class on top; above 60 classes only
    the 60 largest are drawn (the title says so) so the chart stays readable."""
    counts = Counter(q.label for q in qualities)
    ranked = sorted(counts, key=lambda name: (-counts[name], natural_key(name)))
    names = ranked[:MAX_NAMED][::-1]
    fig, ax = plt.subplots(figsize=(8, _bar_height(len(names))))
    values = [counts[name] for name in names]
    ax.barh(names, values, color=BAR_COLOUR)
    _label_bars(ax, values, list(range(len(names))))
    shown = "" if len(ranked) <= MAX_NAMED else f", largest {MAX_NAMED} shown"
    ax.set_title(f"Clips per class ({len(ranked)} classes{shown}, {len(qualities)} clips)")
    ax.set_xlabel("clips")
    ax.set_ylabel("class")
    return _save(fig, path)


def _speaker_genders(qualities: Sequence[ClipQuality]) -> dict[str, str]:
    """Each speaker's gender (the first one recorded), ``unknown`` when none is."""
    genders: dict[str, str] = {}
    for q in qualities:
        if q.speaker is not None and genders.get(q.speaker, "unknown") == "unknown":
            genders[q.speaker] = q.gender or "unknown"
    return genders


def plot_speaker_counts(qualities: Sequence[ClipQuality], path: Path) -> Path | None:
    """Clips per speaker coloured by gender; a histogram of clips-per-speaker above 60."""
    counts = Counter(q.speaker for q in qualities if q.speaker is not None)
    if not counts:
        return None
    genders = _speaker_genders(qualities)
    if len(counts) > MAX_NAMED:
        fig, ax = plt.subplots(figsize=(8, 4.5))
        per_speaker = np.array(list(counts.values()))
        bins = (np.arange(per_speaker.min(), per_speaker.max() + 2) - 0.5).tolist()
        if len(bins) > 50:
            bins = np.linspace(per_speaker.min(), per_speaker.max(), 41).tolist()
        ax.hist(per_speaker, bins=bins, color=BAR_COLOUR, edgecolor="white")
        ax.set_yscale("log")
        ax.set_title(f"Clips per speaker ({len(counts)} speakers)")
        ax.set_xlabel("clips of one speaker")
        ax.set_ylabel("speakers (log scale)")
        return _save(fig, path)
    names = _sorted_names(counts)[::-1]
    values = [counts[name] for name in names]
    fig, ax = plt.subplots(figsize=(8, _bar_height(len(names))))
    colours = [GENDER_COLOURS.get(genders.get(name, "unknown"), "#9e9e9e") for name in names]
    ax.barh(names, values, color=colours)
    _label_bars(ax, values, list(range(len(names))))
    shown = sorted(set(genders.values()))
    if shown != ["unknown"]:
        handles = [plt.Rectangle((0, 0), 1, 1, color=GENDER_COLOURS[g]) for g in shown]
        ax.legend(handles, shown, **LEGEND_ABOVE)
    ax.set_title(f"Clips per speaker ({len(names)} speakers)", loc="left")
    ax.set_xlabel("clips")
    ax.set_ylabel("speaker")
    return _save(fig, path)


def plot_gender_by_class(qualities: Sequence[ClipQuality], path: Path) -> Path | None:
    """Clips per class split by speaker gender (stacked bars); None when no gender is known."""
    if not any(q.gender for q in qualities):
        return None
    labels = _sorted_names(q.label for q in qualities)[::-1]
    genders = [
        g
        for g in ("female", "male", "unknown")
        if any((q.gender or "unknown") == g for q in qualities)
    ]
    counts = Counter((q.label, q.gender or "unknown") for q in qualities)
    fig, ax = plt.subplots(figsize=(8, _bar_height(len(labels))))
    left = np.zeros(len(labels))
    for gender in genders:
        values = np.array([counts[(label, gender)] for label in labels], dtype=float)
        ax.barh(labels, values, left=left, color=GENDER_COLOURS[gender], label=gender)
        left += values
    ax.legend(**LEGEND_ABOVE)
    ax.set_title("Speaker gender per class", loc="left")
    ax.set_xlabel("clips")
    ax.set_ylabel("class")
    return _save(fig, path)


def plot_durations(qualities: Sequence[ClipQuality], path: Path) -> Path:
    """Histogram of clip durations, before and after trimming leading/trailing silence."""
    raw = np.array([q.duration for q in qualities])
    trimmed = np.array([q.trimmed_duration for q in qualities])
    top = float(max(raw.max(initial=0.0), 0.1))
    bins = np.linspace(0.0, top * 1.001, 41).tolist()
    fig, ax = plt.subplots(figsize=(8, 4.5))
    ax.hist(
        raw, bins=bins, alpha=0.6, color=BAR_COLOUR, label=f"file (median {np.median(raw):.2f} s)"
    )
    ax.hist(
        trimmed,
        bins=bins,
        alpha=0.6,
        color=TRIM_COLOUR,
        label=f"silence trimmed (median {np.median(trimmed):.2f} s)",
    )
    ax.legend(fontsize=8)
    ax.set_title("Clip duration before and after trimming silence")
    ax.set_xlabel("duration (s)")
    ax.set_ylabel("clips")
    return _save(fig, path)


def _count_bars(ax: plt.Axes, counts: Counter[str], title: str, xlabel: str) -> None:
    names = list(counts)
    values = [counts[name] for name in names]
    ax.bar(names, values, color=BAR_COLOUR)
    for i, value in enumerate(values):
        ax.text(i, value, str(value), ha="center", va="bottom", fontsize=8)
    ax.set_ylim(0, max(values, default=1) * 1.15)
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("clips")


def channel_name(channels: int) -> str:
    """``mono``, ``stereo`` or ``N ch``."""
    return {1: "mono", 2: "stereo"}.get(channels, f"{channels} ch")


def plot_formats(qualities: Sequence[ClipQuality], path: Path) -> Path:
    """Counts of clips per native sample rate and per channel count."""
    rates = Counter(
        f"{q.sample_rate / 1000:g} kHz" for q in sorted(qualities, key=lambda q: q.sample_rate)
    )
    channels = Counter(
        channel_name(q.channels) for q in sorted(qualities, key=lambda q: q.channels)
    )
    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 4))
    _count_bars(left, rates, "Native sample rate", "sample rate")
    _count_bars(right, channels, "Channels in the file", "channels")
    fig.suptitle("Audio formats")
    return _save(fig, path)


def plot_quality(qualities: Sequence[ClipQuality], path: Path) -> Path:
    """Clips per clipping band (log-y), and histograms of silence ratio and level."""
    clipping = np.array([q.clipping_ratio for q in qualities]) * 100
    silence = np.array([q.silence_ratio for q in qualities]) * 100
    level = np.array([q.rms_dbfs for q in qualities])
    fig, axes = plt.subplots(1, 3, figsize=(12, 4))
    ax = axes[0]
    edges = [0.0, 0.01, 0.1, 1.0, np.inf]
    names = ["none", "≤ 0.01 %", "0.01–0.1 %", "0.1–1 %", "> 1 %"]
    counts = [int((clipping == 0).sum())] + [
        int(((clipping > lo) & (clipping <= hi)).sum()) for lo, hi in pairwise(edges)
    ]
    ax.bar(names, counts, color=["#9e9e9e", *[BAR_COLOUR] * 4])
    for i, count in enumerate(counts):
        ax.text(i, max(count, 1), str(count), ha="center", va="bottom", fontsize=8)
    ax.set_yscale("log")
    ax.set_ylim(0.8, max(counts) * 3)
    ax.tick_params(axis="x", labelsize=8)
    ax.set_title(
        f"Clipping ({len(clipping) - counts[0]} of {len(clipping)} clips touch full scale)"
    )
    ax.set_xlabel("samples at full scale")
    ax.set_ylabel("clips (log scale)")
    ax = axes[1]
    ax.hist(silence, bins=np.linspace(0, 100, 21), color=BAR_COLOUR)
    ax.set_title(f"Silence (median {np.median(silence):.0f} %)")
    ax.set_xlabel("silent 25 ms frames (%)")
    ax.set_ylabel("clips")
    ax = axes[2]
    ax.hist(level, bins=30, color=BAR_COLOUR)
    ax.set_title(f"Level (median {np.median(level):.1f} dBFS)")
    ax.set_xlabel("RMS level (dBFS)")
    ax.set_ylabel("clips")
    fig.suptitle("Signal quality per clip")
    return _save(fig, path)


def plot_class_speaker_heatmap(qualities: Sequence[ClipQuality], path: Path) -> Path | None:
    """Class × speaker clip counts; None without speakers or with more than 60 of either."""
    speakers = _sorted_names(q.speaker for q in qualities if q.speaker is not None)
    labels = _sorted_names(q.label for q in qualities)
    if not speakers or len(speakers) > MAX_NAMED or len(labels) > MAX_NAMED:
        return None
    counts = Counter((q.label, q.speaker) for q in qualities)
    grid = np.array([[counts[(label, spk)] for spk in speakers] for label in labels])
    width = min(20.0, max(6.0, 0.38 * len(speakers) + 2.5))
    height = min(16.0, max(3.5, 0.32 * len(labels) + 1.8))
    fig, ax = plt.subplots(figsize=(width, height))
    image = ax.imshow(grid, aspect="auto", cmap="Blues", vmin=0)
    fig.colorbar(image, ax=ax, label="clips", fraction=0.04, pad=0.02)
    ax.set_xticks(range(len(speakers)), speakers, rotation=90, fontsize=8)
    ax.set_yticks(range(len(labels)), labels, fontsize=8)
    if grid.size <= 1500:
        threshold = grid.max() * 0.6
        for (row, col), value in np.ndenumerate(grid):
            colour = "white" if value > threshold else "black"
            ax.text(col, row, str(value), ha="center", va="center", fontsize=7, color=colour)
    ax.set_title("Clips per class and speaker")
    ax.set_xlabel("speaker")
    ax.set_ylabel("class")
    return _save(fig, path)

"""The leaderboard: one row per run folder (scores, size, training time, latency per clip and
inference cost per second of audio), sorted by a metric, as a Rich table for the
terminal or a GitHub Markdown table for docs.

:func:`load_run_summary` reads the headline numbers of a run, cross-validation run or
evaluation folder from its ``metrics.json``; cross-validation rows carry the standard
deviation over folds and print as mean ± std.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.table import Table

SCORES = ("accuracy", "balanced_accuracy", "macro_f1")
"""Metrics shown as percentages (higher is better)."""
SORT_KEYS = (*SCORES, "params", "train_seconds", "latency_ms", "ms_per_audio_second", "name")
LOWER_IS_BETTER = frozenset({"params", "train_seconds", "latency_ms", "ms_per_audio_second"})


class RunSummaryError(ValueError):
    """A folder that is not a finished run (no or unreadable metrics.json)."""


@dataclass(frozen=True)
class RunSummary:
    """The headline numbers of one run folder."""

    name: str
    path: Path
    model: str
    kind: str
    """``"run"``, ``"cv"`` or ``"eval"``."""
    params: int | None = None
    train_seconds: float | None = None
    latency_ms: float | None = None
    ms_per_audio_second: float | None = None
    """Inference cost per second of audio, all stages (``metrics["cost"]``; a
    cross-validation run: the mean over its folds)."""
    accuracy: float | None = None
    balanced_accuracy: float | None = None
    macro_f1: float | None = None
    std: dict[str, float] = field(default_factory=dict)
    """Standard deviation over folds (cross-validation only)."""
    n: int | None = None

    def value(self, key: str) -> float | str | None:
        """The value of a sort key (a metric, ``params``, … or ``name``)."""
        if key not in SORT_KEYS:
            raise ValueError(f"cannot sort by {key!r}; choose one of {', '.join(SORT_KEYS)}")
        result: float | str | None = getattr(self, key)
        return result


def load_run_summary(run_dir: str | Path) -> RunSummary:
    """Read ``run_dir/metrics.json`` into a :class:`RunSummary`.

    Raises :class:`RunSummaryError` naming the folder when it has no metrics.json.
    """
    folder = Path(run_dir)
    path = folder / "metrics.json"
    if not path.is_file():
        raise RunSummaryError(
            f"{folder}: no metrics.json, so not a finished run; train it with `audioclf train` "
            "(or finish it with --resume) before comparing"
        )
    try:
        metrics: Any = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise RunSummaryError(f"{path}: not valid JSON ({exc}); re-run the training") from None
    if not isinstance(metrics, dict):
        raise RunSummaryError(f"{path}: expected a JSON object; re-run the training")
    if metrics.get("kind") == "cv":
        kind = "cv"
    elif "unknown_labels" in metrics or "label_map" in metrics:
        kind = "eval"
    else:
        kind = "run"
    mean = metrics.get("mean") or {}
    std = metrics.get("std") or {}
    return RunSummary(
        name=folder.resolve().name,
        path=folder,
        model=_model_text(metrics),
        kind=kind,
        params=_int(metrics.get("params")),
        train_seconds=_float(metrics.get("train_seconds")),
        latency_ms=_float(metrics.get("latency_ms")),
        ms_per_audio_second=_cost_total(metrics),
        accuracy=_float(metrics.get("accuracy", mean.get("accuracy"))),
        balanced_accuracy=_float(metrics.get("balanced_accuracy", mean.get("balanced_accuracy"))),
        macro_f1=_float(metrics.get("macro_f1", mean.get("macro_f1"))),
        std={key: float(std[key]) for key in SCORES if key in std} if kind == "cv" else {},
        n=_int(metrics.get("n_scored", metrics.get("n"))),
    )


def _cost_total(metrics: dict[str, Any]) -> float | None:
    """The run's total ms per second of audio; for cross-validation the mean over the
    folds that measured it; None when none did."""
    folds = metrics.get("folds") if metrics.get("kind") == "cv" else [metrics]
    totals = []
    for fold in folds or []:
        total = ((fold.get("cost") or {}).get("ms_per_audio_second") or {}).get("total")
        if isinstance(total, int | float):
            totals.append(float(total))
    return sum(totals) / len(totals) if totals else None


def _model_text(metrics: dict[str, Any]) -> str:
    """The model column: ``auto → fusion_logreg`` for a selection, the picks of a cv."""
    model = str(metrics.get("model") or "?")
    if metrics.get("selected"):
        picks = ", ".join(f"{name} ×{n}" for name, n in metrics["selected"].items())
        return f"{model} ({picks})"
    if metrics.get("selected_by"):
        kept = (metrics.get("selection") or {}).get("chosen") or model
        return f"{metrics['selected_by']} → {kept}"
    return model


def sort_runs(runs: Sequence[RunSummary], sort_by: str = "balanced_accuracy") -> list[RunSummary]:
    """Best first: scores descending, costs (params, time, latency) ascending, names A→Z;
    runs without the value go last."""
    if sort_by not in SORT_KEYS:
        raise ValueError(f"cannot sort by {sort_by!r}; choose one of {', '.join(SORT_KEYS)}")
    if sort_by == "name":
        return sorted(runs, key=lambda run: run.name)
    sign = 1.0 if sort_by in LOWER_IS_BETTER else -1.0

    def key(run: RunSummary) -> tuple[bool, float, str]:
        value = run.value(sort_by)
        missing = not isinstance(value, int | float) or math.isnan(value)
        number = 0.0 if missing else sign * float(value)  # type: ignore[arg-type]
        return (missing, number, run.name)

    return sorted(runs, key=key)


def _columns() -> list[tuple[str, str]]:
    return [
        ("#", "rank"),
        ("run", "name"),
        ("model", "model"),
        ("kind", "kind"),
        ("WA", "accuracy"),
        ("UA", "balanced_accuracy"),
        ("macro-F1", "macro_f1"),
        ("params", "params"),
        ("train time", "train_seconds"),
        ("latency", "latency_ms"),
        ("ms / s audio", "ms_per_audio_second"),
    ]


def _cells(rank: int, run: RunSummary) -> list[str]:
    return [
        str(rank),
        run.name,
        run.model,
        run.kind,
        *(_score_cell(run, key) for key in SCORES),
        _params(run.params),
        _duration(run.train_seconds),
        "—" if run.latency_ms is None else f"{run.latency_ms:.1f} ms",
        "—" if run.ms_per_audio_second is None else f"{run.ms_per_audio_second:.1f}",
    ]


def leaderboard(runs: Sequence[RunSummary], sort_by: str = "balanced_accuracy") -> Table:
    """A Rich table of ``runs``, best first by ``sort_by`` (cv rows show mean ± std)."""
    table = Table(title=f"Leaderboard (sorted by {sort_by})", header_style="bold")
    for title, key in _columns():
        numeric = key not in {"name", "model", "kind"}
        style = "bold" if key == sort_by else None
        table.add_column(title, justify="right" if numeric else "left", style=style)
    for rank, run in enumerate(sort_runs(runs, sort_by), start=1):
        table.add_row(*_cells(rank, run))
    return table


def to_markdown(runs: Sequence[RunSummary], sort_by: str = "balanced_accuracy") -> str:
    """A GitHub Markdown table of ``runs``, best first by ``sort_by``; numbers are
    right-aligned and cv rows show mean ± std."""
    columns = _columns()
    header = "| " + " | ".join(title for title, _ in columns) + " |"
    align = (
        "|"
        + "|".join(":---" if key in {"name", "model", "kind"} else "---:" for _, key in columns)
        + "|"
    )
    lines = [header, align]
    for rank, run in enumerate(sort_runs(runs, sort_by), start=1):
        cells = [cell.replace("|", "\\|") for cell in _cells(rank, run)]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _score_cell(run: RunSummary, key: str) -> str:
    value = getattr(run, key)
    if value is None:
        return "—"
    text = f"{100 * value:.1f}"
    if key in run.std:
        text += f" ± {100 * run.std[key]:.1f}"
    return text


def _params(value: int | None) -> str:
    if value is None:
        return "—"
    if value >= 1_000_000:
        return f"{value / 1e6:.2f} M"
    if value >= 1_000:
        return f"{value / 1e3:.1f} k"
    return str(value)


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    if seconds < 60:
        return f"{seconds:.0f} s"
    return f"{seconds / 60:.1f} min"


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


def _int(value: Any) -> int | None:
    return None if value is None else int(value)

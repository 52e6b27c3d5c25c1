"""The run report: ``report.html`` and ``plots/*.png`` for a run, cross-validation or
evaluation folder.

:func:`write_run_report` reads the folder's ``metrics.json`` (and ``config.yaml`` and
``history.csv`` when present), draws the plots of :mod:`audioclf.evaluate.plots` into
``plots/`` and renders the Jinja2 template shipped as
``audioclf/evaluate/templates/run_report.html``: headline numbers, the per-class table,
both confusion matrices, the reliability diagram, training curves, the cost per second of
audio by stage (``metrics["cost"]``, :mod:`audioclf.inference.cost`), the config, split
sizes and skipped files; for cross-validation the per-fold table with mean ± std; for a
cross-corpus evaluation the clips whose label the model does not know.
:func:`write_eval_report` does the same for an ``audioclf evaluate`` output folder.
The HTML has no scripts and no external resources, so the folder can be zipped and mailed.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import jinja2
import numpy as np
import yaml

from audioclf.evaluate import plots
from audioclf.evaluate.metrics import SUMMARY_KEYS

SUMMARY_NAMES = {
    "accuracy": "WA (accuracy)",
    "balanced_accuracy": "UA (balanced accuracy)",
    "macro_precision": "macro precision",
    "macro_recall": "macro recall",
    "macro_f1": "macro-F1",
    "ece": "ECE",
}


class ReportError(ValueError):
    """A folder that cannot be reported on (no or unreadable metrics.json)."""


def read_metrics(folder: Path) -> dict[str, Any]:
    """The folder's ``metrics.json`` as a dict, with an error that says what to do."""
    path = folder / "metrics.json"
    if not path.is_file():
        raise ReportError(
            f"{folder}: no metrics.json; train the run (`audioclf train`) or evaluate it "
            "(`audioclf evaluate`) first"
        )
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ReportError(f"{path}: not valid JSON ({exc}); re-run the evaluation") from None
    if not isinstance(data, dict):
        raise ReportError(f"{path}: expected a JSON object; re-run the evaluation")
    return data


def write_run_report(run_dir: str | Path) -> Path:
    """Write ``plots/*.png`` and ``report.html`` for a training or cross-validation run
    folder; returns the path of the HTML file."""
    return _write_report(Path(run_dir), evaluation=False)


def write_eval_report(out_dir: str | Path) -> Path:
    """Write ``plots/*.png`` and ``report.html`` for an ``audioclf evaluate`` output folder
    (possibly cross-corpus); returns the path of the HTML file."""
    return _write_report(Path(out_dir), evaluation=True)


# ---------------------------------------------------------------- building the context


def _write_report(folder: Path, *, evaluation: bool) -> Path:
    metrics = read_metrics(folder)
    is_cv = metrics.get("kind") == "cv"
    config = _read_config(folder / "config.yaml")
    plot_dir = folder / "plots"
    figures = _draw_plots(folder, plot_dir, metrics, is_cv=is_cv)
    per_class = _per_class(metrics)
    kind = "evaluation" if evaluation else "cross-validation" if is_cv else "training run"
    context = {
        "title": f"{folder.resolve().name} — {kind} report",
        "kind": kind,
        "folder": str(folder),
        "generated": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "model": metrics.get("model") or config.get("model") or "?",
        "data": metrics.get("data") or config.get("data") or "",
        "run": metrics.get("run", ""),
        "has_scores": "accuracy" in metrics,
        "headline": _headline(metrics, is_cv=is_cv),
        "per_class": per_class,
        "figures": figures,
        "folds": _fold_rows(folder, metrics) if is_cv else [],
        "fold_summary": _fold_summary(metrics) if is_cv else [],
        "splits": _split_rows(metrics),
        "selection": _selection_rows(folder, metrics),
        "cost": _cost(metrics),
        "perturbations": _perturbation_rows(metrics),
        "selected": ", ".join(
            f"{model} ×{n}" for model, n in (metrics.get("selected") or {}).items()
        ),
        "config": [(key, _format_value(value)) for key, value in config.items()],
        "skipped": _skipped(metrics),
        "unknown": _unknown_rows(metrics),
        "n_unknown": int(metrics.get("n_unknown") or 0),
        "n_scored": metrics.get("n_scored"),
        "dropped_by_map": int(metrics.get("dropped_by_map") or 0),
        "missing_labels": list(metrics.get("missing_labels") or []),
        "label_map": [
            (source, target if target is not None else "(dropped)")
            for source, target in (metrics.get("label_map") or {}).items()
        ],
    }
    html = _template().render(**context)
    path = folder / "report.html"
    path.write_text(html, encoding="utf-8")
    return path


def _template() -> jinja2.Template:
    text = (resources.files("audioclf.evaluate") / "templates" / "run_report.html").read_text(
        encoding="utf-8"
    )
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    return env.from_string(text)


def _read_config(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ReportError(f"{path}: not valid YAML ({exc}); fix or delete it") from None
    return raw if isinstance(raw, dict) else {}


def _draw_plots(
    folder: Path, plot_dir: Path, metrics: Mapping[str, Any], *, is_cv: bool
) -> list[dict[str, str]]:
    """Draw every plot the metrics allow; returns [{file, caption}] relative to ``folder``."""
    jobs: list[tuple[str, str, Callable[[Path], Path]]] = []
    labels = list(metrics.get("labels") or [])
    confusion = metrics.get("confusion")
    if labels and confusion:
        total = "summed over folds" if is_cv else "test clips"
        jobs.append(
            (
                "confusion_normalized.png",
                "Confusion matrix, % of each true class (the diagonal is per-class recall)",
                lambda p: plots.plot_confusion(
                    confusion, labels, p, normalized=True, title=f"Confusion (row %, {total})"
                ),
            )
        )
        jobs.append(
            (
                "confusion_counts.png",
                "Confusion matrix, clip counts (rows = true class)",
                lambda p: plots.plot_confusion(
                    confusion, labels, p, normalized=False, title=f"Confusion (counts, {total})"
                ),
            )
        )
    per_class = _per_class_metrics(metrics)
    if per_class:
        jobs.append(
            (
                "per_class.png",
                "Precision, recall and F1 per class",
                lambda p: plots.plot_per_class({"per_class": per_class}, p),
            )
        )
    bins = metrics.get("reliability")
    if bins:
        ece = float(metrics.get("ece", math.nan))
        jobs.append(
            (
                "reliability.png",
                "Reliability: how often the top class is right at each confidence",
                lambda p: plots.plot_reliability(bins, p, ece),
            )
        )
    history = folder / "history.csv"
    if history.is_file() and _has_rows(history):
        jobs.append(
            (
                "training_curves.png",
                "Training curves (dotted: the epoch whose weights were kept)",
                lambda p: plots.plot_training_curves(history, p),
            )
        )
    folds = [f for f in metrics.get("folds") or [] if "accuracy" in f]
    if is_cv and folds:
        jobs.append(
            (
                "fold_scores.png",
                "Scores of each fold",
                lambda p: plots.plot_fold_scores(folds, p),
            )
        )
    front = (metrics.get("selection") or {}).get("front")
    if front:
        jobs.append(
            (
                "front.png",
                "auto's models: validation UA against latency per clip (ringed: served)",
                lambda p: plots.plot_front(front, p),
            )
        )
    jobs.extend(_perturbation_plots(metrics))
    figures = []
    for name, caption, draw in jobs:
        draw(plot_dir / name)
        figures.append({"file": f"plots/{name}", "caption": caption})
    return figures


def _perturbation_plots(
    metrics: Mapping[str, Any],
) -> list[tuple[str, str, Callable[[Path], Path]]]:
    """The robustness plots of an evaluation with ``--perturb``."""
    rows = list(metrics.get("perturbations") or [])
    if not rows:
        return []
    clean = metrics.get("accuracy")
    jobs: list[tuple[str, str, Callable[[Path], Path]]] = [
        (
            "perturbations.png",
            "Accuracy under each perturbation (dashed: the clean clips)",
            lambda p: plots.plot_perturbations(rows, clean, p),
        )
    ]
    if any(row.get("snr") is not None for row in rows):
        jobs.append(
            (
                "accuracy_vs_snr.png",
                "Accuracy against the SNR of added noise (dashed: the clean clips)",
                lambda p: plots.plot_accuracy_vs_snr(rows, clean, p),
            )
        )
    return jobs


def _perturbation_rows(metrics: Mapping[str, Any]) -> list[dict[str, str]]:
    """The table of an evaluation under ``--perturb``: each SPEC's scores and changes."""
    rows = []
    for row in metrics.get("perturbations") or []:
        cells = {"spec": str(row.get("spec", "?"))}
        for key in ("accuracy", "balanced_accuracy", "macro_f1"):
            value, change = row.get(key), row.get(f"{key}_change")
            cells[key] = "—" if value is None else f"{float(value):.3f}"
            cells[f"{key}_change"] = "" if change is None else f"{float(change):+.3f}"
        rows.append(cells)
    return rows


def _has_rows(path: Path) -> bool:
    with path.open(newline="") as f:
        return any(True for _ in csv.DictReader(f))


def _per_class_metrics(metrics: Mapping[str, Any]) -> dict[str, dict[str, float]]:
    """The per-class table of a run, or for cross-validation one pooled from the summed
    confusion matrix."""
    if metrics.get("per_class"):
        return dict(metrics["per_class"])
    labels = list(metrics.get("labels") or [])
    confusion = metrics.get("confusion")
    if not labels or not confusion:
        return {}
    counts = np.asarray(confusion, dtype=float)
    true_totals = counts.sum(axis=1)
    predicted_totals = counts.sum(axis=0)
    table: dict[str, dict[str, float]] = {}
    for i, label in enumerate(labels):
        hit = counts[i, i]
        precision = hit / predicted_totals[i] if predicted_totals[i] else 0.0
        recall = hit / true_totals[i] if true_totals[i] else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        table[label] = {
            "precision": float(precision),
            "recall": float(recall),
            "f1": float(f1),
            "support": int(true_totals[i]),
        }
    return table


def _per_class(metrics: Mapping[str, Any]) -> list[dict[str, str]]:
    return [
        {
            "label": label,
            "precision": _pct(row.get("precision")),
            "recall": _pct(row.get("recall")),
            "f1": _pct(row.get("f1")),
            "support": str(int(row.get("support", 0))),
        }
        for label, row in _per_class_metrics(metrics).items()
    ]


def _headline(metrics: Mapping[str, Any], *, is_cv: bool) -> list[dict[str, str]]:
    std: Mapping[str, float] = (metrics.get("std") or {}) if is_cv else {}
    cards = []
    for key, name in (
        ("accuracy", "WA"),
        ("balanced_accuracy", "UA"),
        ("macro_f1", "macro-F1"),
        ("ece", "ECE"),
    ):
        value = metrics.get(key)
        if value is None and is_cv:
            value = (metrics.get("mean") or {}).get(key)
        if value is None:
            continue
        fmt = _num if key == "ece" else _pct
        text = fmt(value)
        if key in std:
            text += f" ± {fmt(std[key])}"
        cards.append({"name": name, "value": text, "hint": SUMMARY_NAMES[key]})
    for key, name, fmt in (
        ("params", "parameters", _params),
        ("train_seconds", "train time", _duration),
        ("latency_ms", "latency / clip", _latency),
    ):
        if metrics.get(key) is not None:
            cards.append({"name": name, "value": fmt(metrics[key]), "hint": key})
    per_second = (metrics.get("cost") or {}).get("ms_per_audio_second") or {}
    if per_second.get("total") is not None:
        cards.append(
            {
                "name": "cost / s of audio",
                "value": _latency(per_second["total"]),
                "hint": "cost.ms_per_audio_second.total",
            }
        )
    n = metrics.get("n_scored", metrics.get("n"))
    if n is not None:
        cards.append({"name": "clips scored", "value": str(n), "hint": "n"})
    return cards


def _fold_rows(folder: Path, metrics: Mapping[str, Any]) -> list[dict[str, str]]:
    rows = []
    for i, fold in enumerate(metrics.get("folds") or [], start=1):
        report = folder / f"fold{i}" / "report.html"
        rows.append(
            {
                "name": f"fold {i}",
                "link": f"fold{i}/report.html" if report.is_file() else "",
                **{key: _metric_text(key, fold.get(key)) for key in SUMMARY_KEYS},
                "n": str(fold.get("n", "")),
            }
        )
    return rows


def _fold_summary(metrics: Mapping[str, Any]) -> list[dict[str, str]]:
    mean: Mapping[str, float] = metrics.get("mean") or {}
    std: Mapping[str, float] = metrics.get("std") or {}
    return [
        {
            "name": "mean ± std",
            **{
                key: (
                    f"{_metric_text(key, mean[key])} ± {_metric_text(key, std.get(key, 0.0))}"
                    if key in mean
                    else "—"
                )
                for key in SUMMARY_KEYS
            },
            "n": str(metrics.get("n", "")),
        }
    ]


_ESTIMATES = {
    "cv_balanced_accuracy": "inner grouped CV (train + val)",
    "val_balanced_accuracy": "validation split, best epoch",
}


def _selection_rows(folder: Path, metrics: Mapping[str, Any]) -> list[dict[str, str]]:
    """``--model auto``: one row per candidate, the kept ones marked with their weight
    in the pair when it was weighed."""
    selection: Mapping[str, Any] = metrics.get("selection") or {}
    kept = selection.get("members") or [selection.get("chosen")]
    weights: Mapping[str, float] = selection.get("weights") or {}

    def mark(name: str) -> str:
        text = "kept" if name in kept or name == selection.get("chosen") else ""
        if name in weights:
            text = f"{text} (weight {weights[name]:g})".strip()
        return text

    rows = []
    for row in selection.get("candidates") or []:
        name = str(row["model"])
        report = folder / "candidates" / name / "report.html"
        rows.append(
            {
                "model": name,
                "link": f"candidates/{name}/report.html" if report.is_file() else "",
                "kept": mark(name),
                "estimate": _ESTIMATES.get(str(row.get("estimate")), "none"),
                "score": _num(row.get("score")),
                "train": _duration(row["train_seconds"]) if row.get("train_seconds") else "—",
                "latency": _latency(row["latency_ms"]) if row.get("latency_ms") else "—",
                "cost": (
                    f"{float(row['ms_per_audio_second']):.1f} ms"
                    if row.get("ms_per_audio_second") is not None
                    else "—"
                ),
                "params": _params(row["params"]) if row.get("params") else "—",
            }
        )
    return rows


def _cost(metrics: Mapping[str, Any]) -> dict[str, Any]:
    """The cost table: one row per stage (ms per second of audio and share of the total),
    an ensemble's member subtotals, how it was measured, or why it was not; empty when
    the run recorded no cost."""
    cost: Mapping[str, Any] = metrics.get("cost") or {}
    if not cost:
        return {}
    if cost.get("skipped"):
        return {"skipped": str(cost["skipped"])}
    per_second: Mapping[str, float] = cost.get("ms_per_audio_second") or {}
    total = float(per_second.get("total") or 0.0)

    def row(name: str, ms: float) -> dict[str, str]:
        share = f"{100 * ms / total:.1f} %" if total > 0 else "—"
        return {"stage": name, "ms": f"{ms:.3f}", "share": share}

    return {
        "skipped": "",
        "rows": [row(name, float(ms)) for name, ms in per_second.items() if name != "total"],
        "members": [row(name, float(ms)) for name, ms in (cost.get("members") or {}).items()],
        "total": row("total", total),
        "clips": cost.get("clips"),
        "seconds": f"{float(cost.get('audio_seconds') or 0.0):.1f}",
        "p50": _latency(cost["ms_per_clip_p50"]) if cost.get("ms_per_clip_p50") else "—",
    }


def _split_rows(metrics: Mapping[str, Any]) -> list[tuple[str, str]]:
    rows = [
        (name, str(metrics[key]))
        for key, name in (
            ("split", "split strategy"),
            ("n_train", "train clips"),
            ("n_val", "validation clips"),
            ("n_test", "test clips"),
            ("fit_on", "fitted on"),
            ("speaker_norm", "per-speaker feature standardisation"),
            ("best_epoch", "best epoch"),
            ("epochs_run", "epochs run"),
            ("n_folds", "folds"),
            ("group", "folds grouped by"),
        )
        if metrics.get(key) is not None
    ]
    if metrics.get("speeds"):
        speeds = ", ".join(f"{s:g}" for s in metrics["speeds"])
        rows.append(("speed views", f"1 (the clip), {speeds}: trained on each, scored on all"))
    if metrics.get("noise_views"):
        noisy = "; ".join(metrics["noise_views"])
        rows.append(("noise views", f"{noisy}: a copy of each training clip, never scored"))
    return rows + _corpus_rows(metrics)


def _corpus_rows(metrics: Mapping[str, Any]) -> list[tuple[str, str]]:
    """A pooled run's corpora: clips per split, the repetition that balanced training,
    and each corpus's test WA/UA (for cross-validation: mean ± std over folds)."""
    rows = []
    scores: Mapping[str, Mapping[str, Any]] = metrics.get("per_corpus") or {}
    for name in sorted({*(metrics.get("corpora") or {}), *scores}):
        parts = []
        counts = (metrics.get("corpora") or {}).get(name)
        if counts:
            parts.append(
                f"{counts['n_train']} train · {counts['n_val']} val · {counts['n_test']} test"
                f" clips, training clips ×{counts['train_repeat']}"
            )
        if name in scores:
            score = scores[name]
            spread = {
                k: f" ± {_num(score[f'{k}_std'])}" if f"{k}_std" in score else ""
                for k in ("accuracy", "balanced_accuracy")
            }
            parts.append(
                f"test WA {_num(score['accuracy'])}{spread['accuracy']}, "
                f"UA {_num(score['balanced_accuracy'])}{spread['balanced_accuracy']}"
            )
        rows.append((f"corpus {name}", "; ".join(parts)))
    return rows


def _skipped(metrics: Mapping[str, Any]) -> list[dict[str, str]]:
    """Skipped files of the run, or of every fold (each file once) for cross-validation."""
    items = list(metrics.get("skipped") or [])
    for fold in metrics.get("folds") or []:
        items.extend(fold.get("skipped") or [])
    unique: dict[str, dict[str, str]] = {}
    for item in items:
        unique.setdefault(
            str(item.get("path")),
            {"path": str(item.get("path")), "reason": str(item.get("reason", ""))},
        )
    return list(unique.values())


def _unknown_rows(metrics: Mapping[str, Any]) -> list[dict[str, Any]]:
    unknown: Mapping[str, Mapping[str, Any]] = metrics.get("unknown_labels") or {}
    rows = []
    for label, entry in unknown.items():
        predicted: Mapping[str, int] = entry.get("predicted") or {}
        n = int(entry.get("n", sum(predicted.values())))
        ranked = sorted(predicted.items(), key=lambda item: (-item[1], item[0]))
        rows.append(
            {
                "label": label,
                "n": n,
                "predicted": ", ".join(
                    f"{name} {count} ({count / n:.0%})" if n else f"{name} {count}"
                    for name, count in ranked
                ),
            }
        )
    return rows


# ---------------------------------------------------------------- formatting


def _pct(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    return f"{100 * float(value):.1f} %"


def _num(value: Any) -> str:
    return "—" if value is None else f"{float(value):.3f}"


def _metric_text(key: str, value: Any) -> str:
    return _num(value) if key == "ece" else _pct(value)


def _params(value: Any) -> str:
    n = int(value)
    if n >= 1_000_000:
        return f"{n / 1e6:.2f} M"
    if n >= 1_000:
        return f"{n / 1e3:.1f} k"
    return str(n)


def _duration(value: Any) -> str:
    seconds = float(value)
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {rest:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def _latency(value: Any) -> str:
    return f"{float(value):.1f} ms"


def _format_value(value: Any) -> str:
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False) if value else "—"
    if value is None:
        return "—"
    return str(value)

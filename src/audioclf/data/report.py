"""The data report: ``report.html``, PNG plots and ``stats.json`` for one manifest.

:func:`write_report` measures every clip (:mod:`audioclf.data.quality`), draws the plots
(:mod:`audioclf.data.report_plots`), computes the statistics and plain-word warnings
(:func:`build_stats`, :func:`find_warnings`) and renders the Jinja2 template shipped in
``audioclf/data/templates/data_report.html``. The HTML has no scripts and no external
resources: the folder can be zipped, mailed or opened offline.
"""

from __future__ import annotations

import json
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import jinja2
import numpy as np

from audioclf.data import report_plots
from audioclf.data.quality import ClipQuality, measure_manifest
from audioclf.data.split import speakerless_classes
from audioclf.formats.manifest import SkippedFile, read_manifest, read_skipped

TRAINING_RATE = 16_000
"""The sample rate training resamples to by default."""
CLIPPED = 0.001
"""A clip is listed as clipped when more than this fraction of its samples is at full scale."""
MOSTLY_SILENT = 0.8
SHORT_SOUND_SECONDS = 0.2
DC_LIMIT = 0.01
QUIET_DBFS = -50.0
TOP_N = 10

PlotFn = Callable[[Sequence[ClipQuality], Path], Path | None]
PLOTS: dict[str, tuple[PlotFn, str]] = {
    "class_counts": (report_plots.plot_class_counts, "Clips per class"),
    "speaker_counts": (report_plots.plot_speaker_counts, "Clips per speaker"),
    "gender_by_class": (report_plots.plot_gender_by_class, "Speaker gender per class"),
    "class_speaker": (report_plots.plot_class_speaker_heatmap, "Clips per class and speaker"),
    "durations": (report_plots.plot_durations, "Durations before and after trimming silence"),
    "formats": (report_plots.plot_formats, "Sample rates and channels"),
    "quality": (report_plots.plot_quality, "Clipping, silence and level"),
}
"""Plot name (also the PNG file stem) → (function, caption), in report order."""


@dataclass(frozen=True)
class ReportResult:
    """What :func:`write_report` wrote, and the headline numbers."""

    html: Path
    stats: Path
    plots: dict[str, Path]
    clips: int
    """Clips measured (readable rows of the manifest)."""
    unreadable: int
    """Files that could not be used (read failures now plus files skipped at prepare time)."""
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0
    """Wall time the report took."""


def _summary(values: Sequence[float]) -> dict[str, float] | None:
    """min / median / mean / p95 / max of ``values`` (None when empty)."""
    if not values:
        return None
    array = np.asarray(values, dtype=np.float64)
    return {
        "min": round(float(array.min()), 6),
        "median": round(float(np.median(array)), 6),
        "mean": round(float(array.mean()), 6),
        "p95": round(float(np.percentile(array, 95)), 6),
        "max": round(float(array.max()), 6),
    }


def _names(counter: Counter[str]) -> dict[str, int]:
    return {name: counter[name] for name in sorted(counter, key=report_plots.natural_key)}


def _clip_row(q: ClipQuality) -> dict[str, Any]:
    return {
        "id": q.id,
        "label": q.label,
        "speaker": q.speaker,
        "path": q.path,
        "clipping_ratio": round(q.clipping_ratio, 6),
        "silence_ratio": round(q.silence_ratio, 4),
        "peak": round(q.peak, 4),
    }


def find_warnings(qualities: Sequence[ClipQuality], unreadable: Sequence[SkippedFile]) -> list[str]:
    """Plain-word warnings about balance, formats and signal quality, most important first."""
    notes: list[str] = []
    if unreadable:
        notes.append(f"{len(unreadable)} file(s) cannot be used; they are listed below.")
    counts = Counter(q.label for q in qualities)
    if len(counts) > 1:
        (big, n_big), (small, n_small) = counts.most_common()[0], counts.most_common()[-1]
        if n_big >= 2 * n_small:
            notes.append(
                f"class {small!r} has {n_big / n_small:.1f}× fewer clips than class {big!r} "
                f"({n_small} vs {n_big}); consider class weights or more data."
            )
        few = sorted((name for name, n in counts.items() if n < 10), key=report_plots.natural_key)
        if few:
            notes.append(f"{len(few)} class(es) have fewer than 10 clips: {', '.join(few[:10])}.")
    by_speaker: dict[str, set[str]] = defaultdict(set)
    for q in qualities:
        if q.speaker is not None:
            by_speaker[q.speaker].add(q.label)
    single = sorted((s for s, labels in by_speaker.items() if len(labels) == 1), key=str)
    if len(counts) > 1 and single:
        notes.append(
            f"{len(single)} speaker(s) have only one class (e.g. {', '.join(single[:5])}): "
            "split by speaker, or a model may learn voices instead of classes."
        )
    alone = speakerless_classes((q.label, q.speaker) for q in qualities)
    if alone:
        notes.append(
            f"class(es) {', '.join(alone[:10])} have no speaker on any clip while the others "
            "do (background noise or silence): a speaker split puts each of their clips in "
            "a group of its own."
        )
    rates = Counter(q.sample_rate for q in qualities)
    if len(rates) > 1:
        listed = ", ".join(f"{r / 1000:g} kHz: {n}" for r, n in sorted(rates.items()))
        notes.append(
            f"mixed sample rates ({listed}): audio is resampled to "
            f"{TRAINING_RATE / 1000:g} kHz at training."
        )
    low = sum(n for r, n in rates.items() if r < TRAINING_RATE)
    if low:
        notes.append(
            f"{low} clip(s) are sampled below {TRAINING_RATE / 1000:g} kHz: upsampling adds no "
            "high frequencies, so the model sees less detail in them."
        )
    multi = sum(1 for q in qualities if q.channels > 1)
    if multi:
        notes.append(f"{multi} clip(s) have more than one channel; channels are averaged to mono.")
    checks = [
        (
            sum(q.clipping_ratio > CLIPPED for q in qualities),
            "clip (> 0.1 % of samples at full scale)",
        ),
        (sum(q.silence_ratio > MOSTLY_SILENT for q in qualities), "are more than 80 % silence"),
        (
            sum(q.trimmed_duration < SHORT_SOUND_SECONDS for q in qualities),
            "have under 0.2 s of sound after trimming silence",
        ),
        (sum(abs(q.dc_offset) > DC_LIMIT for q in qualities), "have a DC offset above 0.01"),
        (
            sum(q.rms_dbfs < QUIET_DBFS for q in qualities),
            "are very quiet (level under −50 dBFS); normalise loudness before training",
        ),
    ]
    notes.extend(f"{n} clip(s) {text}." for n, text in checks if n)
    return notes


def build_stats(
    qualities: Sequence[ClipQuality],
    unreadable: Sequence[SkippedFile],
    *,
    prepare_skipped: Sequence[SkippedFile] = (),
    manifest_rows: int | None = None,
) -> dict[str, Any]:
    """The JSON-ready statistics of a measured manifest (what ``stats.json`` holds)."""
    at_prepare = {(s.path, s.reason) for s in prepare_skipped}
    seconds: dict[str, list[float]] = defaultdict(list)
    speakers: dict[str, set[str]] = defaultdict(set)
    genders: dict[str, Counter[str]] = defaultdict(Counter)
    for q in qualities:
        seconds[q.label].append(q.duration)
        if q.speaker is not None:
            speakers[q.label].add(q.speaker)
        genders[q.label][q.gender or "unknown"] += 1
    classes = {
        label: {
            "clips": len(seconds[label]),
            "seconds": round(sum(seconds[label]), 3),
            "median_duration": round(float(np.median(seconds[label])), 3),
            "speakers": len(speakers[label]),
            "genders": dict(sorted(genders[label].items())),
        }
        for label in sorted(seconds, key=report_plots.natural_key)
    }
    clipped = sorted(
        (q for q in qualities if q.clipping_ratio > CLIPPED), key=lambda q: -q.clipping_ratio
    )
    total = sum(q.duration for q in qualities)
    if manifest_rows is None:  # every row was either measured or failed to read
        rows = len(qualities) + len(unreadable) - len(at_prepare)
    else:
        rows = manifest_rows
    return {
        "totals": {
            "rows": rows,
            "clips": len(qualities),
            "unreadable": len(unreadable),
            "classes": len(classes),
            "speakers": len({q.speaker for q in qualities if q.speaker is not None}),
            "hours": round(total / 3600, 4),
            "hours_after_trimming": round(sum(q.trimmed_duration for q in qualities) / 3600, 4),
        },
        "classes": classes,
        "genders": dict(sorted(Counter(q.gender or "unknown" for q in qualities).items())),
        "speakers": _names(Counter(q.speaker for q in qualities if q.speaker is not None)),
        "sample_rates": {
            str(r): n for r, n in sorted(Counter(q.sample_rate for q in qualities).items())
        },
        "channels": {str(c): n for c, n in sorted(Counter(q.channels for q in qualities).items())},
        "duration": _summary([q.duration for q in qualities]),
        "trimmed_duration": _summary([q.trimmed_duration for q in qualities]),
        "quality": {
            "clipping_ratio": _summary([q.clipping_ratio for q in qualities]),
            "silence_ratio": _summary([q.silence_ratio for q in qualities]),
            "rms_dbfs": _summary([q.rms_dbfs for q in qualities]),
            "clipped_clips": [_clip_row(q) for q in clipped],
        },
        "unreadable": [
            {
                "path": s.path,
                "reason": s.reason,
                "stage": "prepare" if (s.path, s.reason) in at_prepare else "report",
            }
            for s in unreadable
        ],
        "warnings": find_warnings(qualities, unreadable),
    }


def _template() -> jinja2.Template:
    text = (resources.files("audioclf.data") / "templates" / "data_report.html").read_text(
        encoding="utf-8"
    )
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    return env.from_string(text)


def write_report(
    manifest_path: str | Path,
    out_dir: str | Path,
    *,
    progress: bool = True,
    top_db: float = 30.0,
) -> ReportResult:
    """Measure a manifest's audio and write ``report.html``, ``stats.json`` and PNGs to ``out_dir``.

    Unreadable files (and those the recipe skipped, from the ``.skipped.jsonl`` sidecar) are
    reported, not fatal; a missing or malformed manifest raises
    :class:`~audioclf.formats.manifest.ManifestError`.
    """
    start = time.perf_counter()
    manifest_path = Path(manifest_path)
    out = Path(out_dir)
    manifest = read_manifest(manifest_path)
    prepare_skipped = read_skipped(manifest_path)
    qualities, measured_skipped = measure_manifest(manifest, progress=progress, top_db=top_db)
    unreadable = [*prepare_skipped, *measured_skipped]
    out.mkdir(parents=True, exist_ok=True)
    stats = build_stats(
        qualities, unreadable, prepare_skipped=prepare_skipped, manifest_rows=len(manifest)
    )
    stats = {"manifest": str(manifest_path.resolve()), "top_db": top_db, **stats}
    plots: dict[str, Path] = {}
    if qualities:
        for name, (plot, _) in PLOTS.items():
            written = plot(qualities, out / f"{name}.png")
            if written is not None:
                plots[name] = written
    stats_path = out / "stats.json"
    stats_path.write_text(json.dumps(stats, indent=2, ensure_ascii=False) + "\n", "utf-8")
    by_clipping = sorted(
        (q for q in qualities if q.clipping_ratio > 0), key=lambda q: -q.clipping_ratio
    )
    by_silence = sorted(qualities, key=lambda q: -q.silence_ratio)
    html = _template().render(
        title=f"Data report: {manifest_path.name}",
        stats=stats,
        plots=[(path.name, PLOTS[name][1]) for name, path in plots.items()],
        most_clipped=[_clip_row(q) for q in by_clipping[:TOP_N]],
        most_silent=[_clip_row(q) for q in by_silence[:TOP_N]],
        top_n=TOP_N,
    )
    html_path = out / "report.html"
    html_path.write_text(html, encoding="utf-8")
    return ReportResult(
        html=html_path,
        stats=stats_path,
        plots=plots,
        clips=len(qualities),
        unreadable=len(unreadable),
        warnings=list(stats["warnings"]),
        seconds=time.perf_counter() - start,
    )

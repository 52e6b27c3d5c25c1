"""What an ``auto`` run keeps in its own folder: the best candidate's files, or the
weighted pair as an ensemble run, with the selection recorded in metrics.json.

```
runs/NAME/
  config.yaml              model: auto (the selection's own config, for --resume)
  splits/                  the one split every candidate used
  candidates/MODEL/        a complete run folder per candidate
  model.json, members/, metrics.json, report.html        the weighted pair, or
  model.json, model.*, metrics.json, report.html, ...    copies of the single winner's files
```

The kept model's ``metrics.json`` gains ``selection``: the chosen model and every
candidate's estimate, training time and latency. ``train_seconds`` becomes the whole
selection's time, since that is what the run cost (a resumed selection counts the recorded
time of the candidates it reuses).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np

from audioclf.console import console
from audioclf.evaluate.report import write_run_report
from audioclf.formats.atomic import write_json
from audioclf.formats.runfolder import MEMBERS, ModelCard, RunFolder, read_val_predictions
from audioclf.train.auto.candidates import SelectionError
from audioclf.train.auto.judge import best_of, candidate_rows
from audioclf.train.auto.pair_weights import PairWeight, Z, choose_pair_weight
from audioclf.train.config import AUTO
from audioclf.train.ensemble import build_ensemble
from audioclf.train.single import RunResult

CANDIDATE_DIR = "candidates"
# what the selection owns in its run folder; everything else there is the kept model's
# and is replaced when a resumed selection keeps another one
_OWN = {CANDIDATE_DIR, "splits", "config.yaml"}
# what a kept model always writes into the run folder (listed for the next _clear)
_WRITTEN = {"model.json", "labels.json", "metrics.json", "report.html"}
# files of a candidate that are not copied up: the split is the same, the checkpoint is
# only for resuming that candidate, and the config is the candidate's, not the selection's
_NOT_COPIED = {"splits", "checkpoint.pt", "config.yaml"}


def _clear(run: RunFolder) -> None:
    """Remove the files a previous selection kept in ``run`` (a resumed selection may keep
    another model). Only the names that selection listed in its metrics.json go: the
    folder may hold things audioclf did not write."""
    if not run.metrics.is_file():
        return
    try:
        previous = json.loads(run.metrics.read_text()).get("selection") or {}
    except (OSError, ValueError):
        return
    for name in previous.get("files") or []:
        if (
            not isinstance(name, str)
            or name in _OWN
            or Path(name).name != name
            or name in ("", ".", "..")
        ):
            continue
        item = run.root / name
        if item.is_dir() and not item.is_symlink():
            shutil.rmtree(item)
        elif item.exists() or item.is_symlink():
            item.unlink()


def _names(run: RunFolder) -> set[str]:
    return {item.name for item in run.root.iterdir()}


def _record(
    run: RunFolder,
    metrics: dict[str, Any],
    rows: list[dict[str, Any]],
    selection: dict[str, Any],
    *,
    seconds: float,
) -> RunResult:
    """Write the kept model's metrics with the selection, the report, and say what won."""
    candidate_seconds = sum(float(r["train_seconds"] or 0.0) for r in rows)
    metrics = dict(metrics) | {
        "selected_by": AUTO,
        "selection": {"metric": "balanced_accuracy", **selection, "candidates": rows},
        "train_seconds": round(max(seconds, candidate_seconds), 2),
    }
    write_json(run.metrics, metrics)
    write_run_report(run.root)
    card: ModelCard = run.read_card()
    console.print(
        f"auto: kept [bold]{selection['chosen']}[/] (held-out UA estimates: "
        + ", ".join(f"{r['model']} {_fmt(r['score'])} ({_short(r['estimate'])})" for r in rows)
        + ")",
        highlight=False,
    )
    return RunResult(run.root, metrics, card)


def keep_best(
    run: RunFolder,
    results: dict[str, RunResult],
    *,
    seconds: float,
    best: str | None = None,
    extra: dict[str, Any] | None = None,
) -> RunResult:
    """Copy the best candidate's files (or ``best``'s) into ``run`` and record the
    selection (with ``extra`` facts about it)."""
    best = best or best_of(results, results)
    if best is None:
        raise SelectionError("no candidate has a validation score to compare")
    _clear(run)
    source = results[best].run_dir
    copied = []
    for item in source.iterdir():
        if item.name in _NOT_COPIED or item.name.endswith(".tmp"):
            continue
        target = run.root / item.name
        if item.is_dir():
            shutil.rmtree(target, ignore_errors=True)
            shutil.copytree(item, target)
        else:
            shutil.copy2(item, target)
        copied.append(item.name)
    files = sorted({*copied, *_WRITTEN} - _OWN)
    selection = {"chosen": best, "members": [best], **(extra or {}), "files": files}
    return _record(run, results[best].metrics, candidate_rows(results), selection, seconds=seconds)


def keep_pair(
    run: RunFolder,
    results: dict[str, RunResult],
    pair: tuple[str, str],
    *,
    seconds: float,
    progress: bool,
) -> RunResult:
    """Serve the pair as one model in ``run`` (audioclf.train.ensemble), the neural
    member weighted as the validation clips prefer (train/auto/pair_weights.py), scored on the
    split's test part like any run. A neural weight of 0 keeps the classical one alone."""
    neural, classical = pair
    weight = _pair_weight(results, pair)
    facts: dict[str, Any] = {"pair": list(pair)}
    if weight is not None:
        facts["weights"] = {neural: weight.neural, classical: weight.classical}
        facts["weight_scores"] = {f"{w:g}": round(v, 4) for w, v in weight.scores.items()}
        facts["weight_gains"] = {
            f"{w:g}": {"gain": round(gain, 4), "se": round(se, 4)}
            for w, (gain, se) in weight.gains.items()
        }
        facts["weighted_by"] = (
            f"balanced log-likelihood of the validation clips; a CNN share above 0 must "
            f"gain more than {Z:g} standard errors over {classical} alone"
        )
        if weight.neural == 0.0:
            console.print(
                f"auto: {neural} does not clearly improve {classical} on the validation "
                f"clips; keeping {classical} alone",
                highlight=False,
            )
            return keep_best(run, results, seconds=seconds, best=classical, extra=facts)
    _clear(run)
    before = _names(run)
    members = [results[name].run_dir for name in pair]
    shares = [weight.neural, weight.classical] if weight is not None else None
    metrics = build_ensemble(
        members, run.root, combine="product", weights=shares, progress=progress
    )
    files = sorted((_names(run) - before) | {MEMBERS, *_WRITTEN} - _OWN)
    selection = {
        "chosen": "+".join(pair),
        "members": list(pair),
        "combine": "product",
        **facts,
        "files": files,
    }
    return _record(run, metrics, candidate_rows(results), selection, seconds=seconds)


def _pair_weight(results: dict[str, RunResult], pair: tuple[str, str]) -> PairWeight | None:
    """The neural member's weight fitted on both members' validation predictions (the
    clips both scored, in one order), or None — equal weights, with a note — when a
    member kept none (a run folder from before audioclf kept them)."""
    neural, classical = (read_val_predictions(RunFolder(results[n].run_dir)) for n in pair)
    if neural is None or classical is None:
        console.print(
            "[yellow]note:[/] a member has no val_predictions.npz (trained by an older "
            "audioclf); the pair is weighted equally",
            highlight=False,
        )
        return None
    if results[pair[0]].card.labels != results[pair[1]].card.labels:
        return None  # trained on the same split, so this does not happen; never mix columns
    rows = {clip: i for i, clip in enumerate(classical.ids)}
    shared = [(i, rows[clip]) for i, clip in enumerate(neural.ids) if clip in rows]
    if not shared:
        return None
    a = np.array([i for i, _ in shared])
    b = np.array([j for _, j in shared])
    return choose_pair_weight(neural.probs[a], classical.probs[b], neural.targets[a])


def _fmt(value: Any) -> str:
    return f"{value:.3f}" if isinstance(value, float) else "—"


def _short(estimate: str | None) -> str:
    return {"cv_balanced_accuracy": "inner CV", "val_balanced_accuracy": "validation"}.get(
        estimate or "", "none"
    )

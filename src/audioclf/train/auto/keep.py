"""What an ``auto`` run keeps: every model it trained under ``candidates/`` (each
candidate, the weighted pair as an ensemble run, the distilled student), and in its own
folder a copy of the one it serves, with the selection recorded in metrics.json.

```
runs/NAME/
  config.yaml              model: auto (the selection's own config, for --resume)
  splits/                  the one split every candidate used
  candidates/MODEL/        a complete run folder per model trained (NEURAL+CLASSICAL: the pair)
  model.json, model.*, metrics.json, report.html, ...    copies of the served model's files
                                                         (members/ when it is the pair)
```

The served model's ``metrics.json`` gains ``selection``: the chosen model, the rule that
chose it and the accuracy-versus-latency front (train/auto/front.py), and every
candidate's estimate, training time and latency. ``train_seconds`` becomes the whole
selection's time, since that is what the run cost (a resumed selection counts the recorded
time of the candidates it reuses). ``audioclf serve RUN --member NAME`` serves another
model of ``candidates/``.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np

from audioclf.console import console
from audioclf.evaluate.metrics import classification_metrics
from audioclf.evaluate.report import write_run_report
from audioclf.formats.atomic import write_json
from audioclf.formats.runfolder import (
    CANDIDATES,
    ModelCard,
    RunFolder,
    ValPredictions,
    read_val_predictions,
    write_val_predictions,
)
from audioclf.inference.combine import combine_probabilities
from audioclf.train.auto.candidates import SelectionError
from audioclf.train.auto.judge import best_of, candidate_rows
from audioclf.train.auto.pair_weights import PairWeight, Z, choose_pair_weight
from audioclf.train.config import AUTO
from audioclf.train.ensemble import build_ensemble
from audioclf.train.single import RunResult

CANDIDATE_DIR = CANDIDATES
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


def build_pair(
    run: RunFolder, results: dict[str, RunResult], pair: tuple[str, str], *, progress: bool
) -> tuple[RunResult | None, dict[str, Any]]:
    """The pair as one ensemble run in ``candidates/NEURAL+CLASSICAL`` (audioclf.train.
    ensemble), the neural member weighted as the validation clips prefer
    (train/auto/pair_weights.py) and scored on the split's test part like any run, with
    its validation predictions and UA; and the facts of the weighting. None for the run
    when a neural weight of 0 leaves the classical member alone."""
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
                f"clips; no pair",
                highlight=False,
            )
            return None, facts
    folder = RunFolder(run.root / CANDIDATE_DIR / pair_name(pair))
    members = [results[name].run_dir for name in pair]
    shares = [weight.neural, weight.classical] if weight is not None else None
    metrics = build_ensemble(
        members, folder.root, combine="product", weights=shares, progress=progress
    )
    metrics |= _pair_validation(folder, results, pair, shares)
    write_json(folder.metrics, metrics)
    return RunResult(folder.root, metrics, folder.read_card()), facts


def pair_name(pair: tuple[str, str]) -> str:
    """The name (and candidate folder) of the ensemble of ``pair``."""
    return "+".join(pair)


def _pair_validation(
    folder: RunFolder,
    results: dict[str, RunResult],
    pair: tuple[str, str],
    shares: list[float] | None,
) -> dict[str, float]:
    """The pair's validation predictions (its members' combined, on the clips both
    scored), kept in its folder, and their accuracy and UA; empty when a member kept
    none."""
    shared = _shared_val(results, pair)
    if shared is None:
        return {}
    neural, classical, ids, targets = shared
    probs = combine_probabilities([neural, classical], "product", shares)
    write_val_predictions(folder, ValPredictions(ids, probs, targets))
    labels = results[pair[0]].card.labels
    scores = classification_metrics(targets, probs, labels)
    return {
        "val_accuracy": float(scores["accuracy"]),
        "val_balanced_accuracy": float(scores["balanced_accuracy"]),
    }


def _pair_weight(results: dict[str, RunResult], pair: tuple[str, str]) -> PairWeight | None:
    """The neural member's weight fitted on both members' validation predictions, or
    None — equal weights, with a note — when a member kept none (a run folder from before
    audioclf kept them)."""
    shared = _shared_val(results, pair)
    if shared is None:
        console.print(
            "[yellow]note:[/] a member has no val_predictions.npz (trained by an older "
            "audioclf); the pair is weighted equally",
            highlight=False,
        )
        return None
    neural, classical, _, targets = shared
    return choose_pair_weight(neural, classical, targets)


def _shared_val(
    results: dict[str, RunResult], pair: tuple[str, str]
) -> tuple[np.ndarray, np.ndarray, list[str], np.ndarray] | None:
    """Both members' validation probabilities on the clips both scored, in one order,
    with the clip ids and targets; None when a member kept none or they share none."""
    neural, classical = (read_val_predictions(RunFolder(results[n].run_dir)) for n in pair)
    if neural is None or classical is None:
        return None
    if results[pair[0]].card.labels != results[pair[1]].card.labels:
        return None  # trained on the same split, so this does not happen; never mix columns
    rows = {clip: i for i, clip in enumerate(classical.ids)}
    shared = [(i, rows[clip]) for i, clip in enumerate(neural.ids) if clip in rows]
    if not shared:
        return None
    a = np.array([i for i, _ in shared])
    b = np.array([j for _, j in shared])
    ids = [neural.ids[i] for i in a]
    return neural.probs[a], classical.probs[b], ids, neural.targets[a]


def _fmt(value: Any) -> str:
    return f"{value:.3f}" if isinstance(value, float) else "—"


def _short(estimate: str | None) -> str:
    return {"cv_balanced_accuracy": "inner CV", "val_balanced_accuracy": "validation"}.get(
        estimate or "", "none"
    )

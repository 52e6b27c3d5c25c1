"""``--model auto``: train several candidate models on one split and keep the best —
by default the best neural and the best classical candidate served together as an
ensemble — never looking at the test split.

No model family wins every task: on emotion corpora the openSMILE functionals with a
linear model beat a CNN trained from scratch on a few hundred clips; on spoken words the
CNN wins. ``auto`` stops asking the user to know which, at the price of training each
candidate. Candidates run cheapest first (classical models fit in seconds on cached
feature vectors), so with a time budget the neural candidates get what is left.

```
runs/NAME/
  config.yaml              model: auto (the selection's own config, for --resume)
  splits/                  the one split every candidate used
  candidates/MODEL/        a complete run folder per candidate
  model.json, members/, metrics.json, report.html        the weighted pair, or
  model.json, model.*, metrics.json, report.html, ...    copies of the single winner's files
```

Why an ensemble by default: the pick between a CNN and a feature model is made on a few
held-out voices and is noisy (it kept the weaker model in 2 of 6 FSDD folds), while the
product of their probabilities beat auto's single pick on every protocol of
docs/benchmarks.md (Speech Commands 0.817 against 0.754, FSDD 0.868 against 0.782; Emo-DB
and RAVDESS by 1–2 points). The CNN's share of that product is fitted on the validation
clips (train/pair_weights.py): on the emotion corpora a CNN trained from scratch is much
weaker than the feature model and an equal share costs accuracy; the share is at most
half, above 0 only when the CNN's gain on the validation clips is clear of their noise,
and at 0 the classical model is kept alone. ``model_options: {ensemble: false}``
keeps the single best.

The estimate is balanced accuracy (UA) on voices the candidate did not train on: grouped
k-fold CV inside train + val for the classical models (seconds; see train/inner_cv.py),
the best epoch's validation score for the neural ones (one training is all the budget
allows). The winner's ``metrics.json`` gains ``selection``: the chosen model and every
candidate's estimate, training time and latency. ``train_seconds`` becomes the
whole selection's time, since that is what the run cost (a resumed selection counts the
recorded time of the candidates it reuses).
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib.util import find_spec
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from audioclf.console import console
from audioclf.features.inputs import input_parts
from audioclf.formats.atomic import write_json
from audioclf.formats.manifest import Manifest
from audioclf.formats.runfolder import MEMBERS, ModelCard, RunFolder, read_val_predictions
from audioclf.models import model_info
from audioclf.train.auto.pair_weights import PairWeight, Z, choose_pair_weight
from audioclf.train.config import AUTO, TrainConfig

if TYPE_CHECKING:
    from audioclf.train.run import RunResult

# classical first (cheapest); the ComParE-based ones need the `smile` extra (opensmile),
# the voice-encoder ones the `voice` extra (resemblyzer)
CANDIDATES = (
    "speech_embedding_logreg",
    "fusion_voice_logreg",
    "voice_logreg",
    "fusion_logreg",
    "compare_logreg",
    "logreg",
    "audioclf_default",
)
# balanced accuracy (UA), the figure the trainer picks epochs on, estimated without the
# test split: inner grouped CV when the candidate has it, else the validation split
SELECTION_KEYS = ("cv_balanced_accuracy", "val_balanced_accuracy")
# the share of --time-budget the neural candidates get even when the classical ones overrun.
# On RAVDESS (1440 clips of ~3.5 s) the classical candidates with speed views take about
# 2.5 minutes of the 4, and a CNN epoch about 30 s: with half the budget (and the test
# clips featurised again when scoring the pair) a warm fold took 5 to 6.5 minutes; with 0.4
# (96 s, three epochs) and cached scoring, 256-279 s. Where the classical ones finish
# sooner (Emo-DB, FSDD, Speech Commands: 1–1.7 minutes) the CNN gets the rest and this
# does not bind.
NEURAL_FLOOR = 0.4
CANDIDATE_DIR = "candidates"
# what the selection owns in its run folder; everything else there is the kept model's
# and is replaced when a resumed selection keeps another one
_OWN = {CANDIDATE_DIR, "splits", "config.yaml"}
# what a kept model always writes into the run folder (listed for the next _clear)
_WRITTEN = {"model.json", "labels.json", "metrics.json", "report.html"}
# files of a candidate that are not copied up: the split is the same, the checkpoint is
# only for resuming that candidate, and the config is the candidate's, not the selection's
_NOT_COPIED = {"splits", "checkpoint.pt", "config.yaml"}
# feature parts that need an optional extra: part → (module it needs, extra)
_EXTRA_PARTS = {
    "compare": ("opensmile", "smile"),
    "egemaps": ("opensmile", "smile"),
    "voice_encoder": ("resemblyzer", "voice"),
}


class SelectionError(ValueError):
    """A selection that cannot run (bad candidate list, no validation split)."""


@dataclass
class Candidate:
    """One model to try and the options it is built with."""

    model: str
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def classical(self) -> bool:
        return model_info(self.model).family == "classical"


def _missing_extras(model: str) -> set[str]:
    """The extras ``model``'s features need that are not installed."""
    needed = [_EXTRA_PARTS[p] for p in input_parts(model_info(model).input) if p in _EXTRA_PARTS]
    return {extra for module, extra in needed if find_spec(module) is None}


def candidates(config: TrainConfig) -> list[Candidate]:
    """The candidates of an ``auto`` config, classical ones first.

    ``model_options`` may name them (``candidates: [logreg, audioclf_default]``) and give
    a candidate its own options under its name (``audioclf_default: {vtlp: 0.1}``). The
    default list skips the models whose features need an extra that is not installed
    (openSMILE, the voice encoder); a list the user wrote does not (their run then fails
    with the install hint)."""
    options = dict(config.model_options)
    named = options.pop("candidates", None)
    options.pop("ensemble", None)
    names = list(named) if named is not None else list(CANDIDATES)
    if not names or not all(isinstance(n, str) for n in names):
        raise SelectionError("model_options.candidates must be a non-empty list of model names")
    if AUTO in names or len(set(names)) != len(names):
        raise SelectionError(f"candidates must be distinct models other than {AUTO!r}: {names}")
    for name in names:
        model_info(name)  # unknown names fail here, with the registry's hint
    stray = sorted(set(options) - set(names))
    if stray:
        raise SelectionError(
            f"model_options of an auto run are `candidates`, `ensemble` and per-candidate "
            f"options keyed by a candidate's name; {stray} is none of these"
        )
    if named is None:
        missing = {n: _missing_extras(n) for n in names}
        skipped = [n for n in names if missing[n]]
        if skipped:
            extras = ",".join(sorted(set().union(*missing.values())))
            names = [n for n in names if not missing[n]]
            console.print(
                f"[yellow]note:[/] auto skips {', '.join(skipped)} (features of an extra "
                f"that is not installed): pip install 'audioclf\\[{extras}]' to try them"
            )
    chosen = [Candidate(n, dict(options.get(n) or {})) for n in names]
    if config.speaker_norm and not all(c.classical for c in chosen):
        raise SelectionError(
            "speaker_norm applies to the classical models; with --model auto name classical "
            "candidates only (model_options: {candidates: [compare_logreg, ...]})"
        )
    return sorted(chosen, key=lambda c: not c.classical)


def wants_ensemble(config: TrainConfig) -> bool:
    """``model_options.ensemble`` (default true): serve the best neural and the best
    classical candidate together when both ran."""
    value = config.model_options.get("ensemble", True)
    if not isinstance(value, bool):
        raise SelectionError(f"model_options.ensemble must be true or false, not {value!r}")
    return value


def _budget(
    config: TrainConfig, started: float, neural_started: float, torch_left: int
) -> float | None:
    """Minutes for the next neural candidate: an even share of what the budget has left,
    where the neural candidates together are promised :data:`NEURAL_FLOOR` of it however
    long the classical ones took (on Speech Commands their fits took most of 4 minutes,
    which left the CNN one epoch), and never below 0.1 (an epoch, scored)."""
    if config.time_budget is None:
        return None
    now = time.perf_counter()
    left = config.time_budget - (now - started) / 60
    promised = config.time_budget * NEURAL_FLOOR - (now - neural_started) / 60
    return max(0.1, max(left, promised) / max(torch_left, 1))


def select_run(
    config: TrainConfig,
    run: RunFolder,
    *,
    resume: bool,
    progress: bool,
    splits: dict[str, Manifest] | None,
) -> RunResult:
    """Train every candidate of ``config`` into ``run/candidates/``, copy the one with the
    best validation score up into ``run``, and return it as the run's result."""
    from audioclf.train.run import RunResult, resolve_splits, train_run

    config.to_yaml(run.config)
    splits = resolve_splits(config, run, resume=resume, splits=splits)
    if not len(splits["val"]):
        raise SelectionError(
            "--model auto picks on the validation split, and it is empty (set val > 0)"
        )
    chosen = candidates(config)
    ensemble = wants_ensemble(config)
    started = time.perf_counter()
    neural_started: float | None = None
    results: dict[str, RunResult] = {}
    reused_seconds = 0.0  # what the candidates finished before a resume cost then
    for i, cand in enumerate(chosen):
        folder = run.root / CANDIDATE_DIR / cand.model
        sub = RunFolder(folder)
        console.rule(f"candidate {i + 1}/{len(chosen)}: {cand.model}")
        if resume and sub.metrics.is_file() and sub.card.is_file():
            console.print(f"{cand.model}: done earlier, reusing {folder}")
            results[cand.model] = RunResult(folder, sub.read_metrics(), sub.read_card())
            reused_seconds += float(results[cand.model].metrics.get("train_seconds") or 0.0)
            continue
        budget = None
        if not cand.classical:
            neural_started = neural_started or time.perf_counter()
            torch_left = sum(not c.classical for c in chosen[i:])
            budget = _budget(config, started, neural_started, torch_left)
        cand_config = config.model_copy(
            update={
                "model": cand.model,
                "model_options": cand.options,
                "time_budget": budget,
                # speed views are the classical candidates' (the CNN has `augment`)
                "speeds": config.speeds if cand.classical else [],
            }
        )
        results[cand.model] = train_run(
            cand_config, folder, resume=resume, progress=progress, splits=splits
        )
    seconds = time.perf_counter() - started + reused_seconds
    pair = ensemble_pair(results) if ensemble else None
    if pair is not None:
        return _keep_ensemble(run, results, pair, seconds=seconds, progress=progress)
    return _keep_best(run, results, seconds=seconds)


def _estimate(metrics: dict[str, Any]) -> str | None:
    """The held-out estimate a candidate is judged by: inner grouped CV where the run has
    one (classical models), else the validation split (the best epoch of a torch model)."""
    return next((key for key in SELECTION_KEYS if metrics.get(key) is not None), None)


def _score(metrics: dict[str, Any]) -> float:
    key = _estimate(metrics)
    return float(metrics[key]) if key else float("-inf")


def _best(results: dict[str, RunResult], names: Iterable[str]) -> str | None:
    """The one of ``names`` with the best held-out estimate (ties go to the earlier, i.e.
    cheaper, candidate), or None when none has an estimate."""
    scored = [name for name in names if _score(results[name].metrics) > float("-inf")]
    return max(scored, key=lambda name: _score(results[name].metrics)) if scored else None


def _rows(results: dict[str, RunResult]) -> list[dict[str, Any]]:
    """Every candidate's estimate, how it was made, and its cost."""
    return [
        {
            "model": name,
            "score": result.metrics.get(_estimate(result.metrics) or ""),
            "estimate": _estimate(result.metrics),
            **{key: result.metrics.get(key) for key in (*SELECTION_KEYS, "val_accuracy")},
            "train_seconds": result.metrics.get("train_seconds"),
            "latency_ms": result.metrics.get("latency_ms"),
            "params": result.metrics.get("params"),
        }
        for name, result in results.items()
    ]


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
    from audioclf.evaluate.report import write_run_report
    from audioclf.train.run import RunResult

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


def _keep_best(
    run: RunFolder,
    results: dict[str, RunResult],
    *,
    seconds: float,
    best: str | None = None,
    extra: dict[str, Any] | None = None,
) -> RunResult:
    """Copy the best candidate's files (or ``best``'s) into ``run`` and record the
    selection (with ``extra`` facts about it)."""
    best = best or _best(results, results)
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
    return _record(run, results[best].metrics, _rows(results), selection, seconds=seconds)


def ensemble_pair(results: dict[str, RunResult]) -> tuple[str, str] | None:
    """The best neural and the best classical candidate by their held-out estimates, or
    None when one family did not run (or has no estimate)."""
    classical = {name for name, result in results.items() if result.card.family == "classical"}
    neural = _best(results, [name for name in results if name not in classical])
    best_classical = _best(results, [name for name in results if name in classical])
    return (neural, best_classical) if neural and best_classical else None


def _keep_ensemble(
    run: RunFolder,
    results: dict[str, RunResult],
    pair: tuple[str, str],
    *,
    seconds: float,
    progress: bool,
) -> RunResult:
    """Serve the pair as one model in ``run`` (audioclf.train.ensemble), the neural
    member weighted as the validation clips prefer (train/pair_weights.py), scored on the
    split's test part like any run. A neural weight of 0 keeps the classical one alone."""
    from audioclf.train.ensemble import build_ensemble

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
            return _keep_best(run, results, seconds=seconds, best=classical, extra=facts)
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
    return _record(run, metrics, _rows(results), selection, seconds=seconds)


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

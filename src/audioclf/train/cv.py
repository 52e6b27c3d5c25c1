"""Grouped k-fold cross-validation: every speaker is tested exactly once, never trained on
in the same fold; the result is mean ± std over folds, as papers report it.

``runs/NAME-cv/foldK/`` are ordinary run folders (resumable one by one); the top folder
gets the aggregate metrics.json and report.html. With ``perturb`` (SPECs of
:mod:`audioclf.augment.perturb`), each fold's test speakers are also scored under each
corruption (``foldK/perturbed/``, as ``audioclf evaluate --perturb`` writes it) and the
summary keeps each SPEC's mean and std over folds.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from audioclf import jobs
from audioclf.console import console
from audioclf.data.split import Splits, grouped_kfold, leave_one_group_out
from audioclf.evaluate.evaluate_run import evaluate_run
from audioclf.evaluate.metrics import SUMMARY_KEYS, mean_std
from audioclf.evaluate.report import write_run_report
from audioclf.evaluate.robustness import SCORES, parse_all
from audioclf.formats.atomic import write_json
from audioclf.formats.manifest import Manifest
from audioclf.formats.runfolder import RunFolder
from audioclf.train.config import TrainConfig
from audioclf.train.pooled import corpora_of, pooled_kfold
from audioclf.train.run import train_run
from audioclf.train.single import POOL_FILE
from audioclf.train.splitting import read_training_data
from audioclf.train.warm import warm_cache

LOSO = "loso"


def cross_validate(
    config: TrainConfig,
    out_dir: str | Path,
    *,
    folds: int | str = 5,
    group: str = "speaker",
    resume: bool = False,
    progress: bool = True,
    perturb: Sequence[str] = (),
    perturb_seed: int = 0,
    babble: str | Path | None = None,
) -> dict[str, Any]:
    """Train one run per fold (``folds`` = K or ``"loso"`` for leave-one-group-out) and
    write the aggregate ``metrics.json`` (``folds``, ``mean``, ``std``) and report; with
    ``perturb``, score each fold's test clips under each SPEC too, babble made from the
    manifest ``babble`` when given (else as ``audioclf evaluate`` chooses: the scored
    clips, or the fold's training clips when they hold one speaker)."""
    if not config.sources:
        raise ValueError("no data: give --data MANIFEST.jsonl")
    parse_all(perturb)  # a bad SPEC fails before the first fold trains
    if babble is not None and not Path(babble).is_file():
        raise ValueError(f"--babble {babble}: no such manifest")
    scoring = _Scoring(tuple(perturb), perturb_seed, str(babble) if babble else None)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    config.to_yaml(out / "config.yaml")
    manifest, pool_report = read_training_data(config)
    if pool_report is not None:
        write_json(out / POOL_FILE, pool_report)
    fold_splits = _fold_splits(config, manifest, folds, group)
    executor = jobs.current()
    results: list[dict[str, Any] | None] = [None] * len(fold_splits)
    todo: list[_Fold] = []
    for i, splits in enumerate(fold_splits, start=1):
        fold_dir = out / f"fold{i}"
        fold_run = RunFolder(fold_dir)
        if resume and fold_run.metrics.is_file():
            console.print(f"fold {i}/{len(fold_splits)}: done earlier, reusing {fold_dir}")
            earlier = fold_run.read_metrics()
            fold_metrics = _perturbed(fold_run, earlier, scoring)
            if fold_metrics is not earlier:
                write_json(fold_run.metrics, fold_metrics)
            results[i - 1] = fold_metrics
            continue
        parts = {"train": splits.train, "val": splits.val, "test": splits.test}
        todo.append(_Fold(i, len(fold_splits), config, fold_dir, parts, resume, scoring))
    if executor.distributed:
        if todo:  # the clips every fold shares, featurised once over the cluster
            warm_cache(config, manifest, progress=progress)
        # every fold a job on the cluster, its own bars off (the bar here counts folds)
        done = executor.map(
            partial(_train_fold, progress=False), todo, description="folds", progress=progress
        )
    else:
        done = [_train_fold(fold, progress=progress) for fold in todo]
    for fold, fold_metrics in zip(todo, done, strict=True):
        results[fold.index - 1] = fold_metrics
    metrics = aggregate_folds([r for r in results if r is not None])
    if perturb:
        metrics["perturbations"] = aggregate_perturbations(metrics["folds"])
    metrics["group"] = group
    metrics["data"] = config.data
    if config.pool:
        metrics["pool"] = list(config.pool)
    write_json(out / "metrics.json", metrics)
    write_run_report(out)
    return metrics


def _fold_splits(
    config: TrainConfig, manifest: Manifest, folds: int | str, group: str
) -> list[Splits]:
    """The folds: one per group (``loso``; leaving a corpus out, val is a speaker share
    of the other corpora) or K grouped folds (a pool's speaker folds made inside each
    corpus)."""
    if folds == LOSO:
        val_group = "speaker" if group == "corpus" else group
        return leave_one_group_out(
            manifest, group=group, val=config.val, seed=config.seed, val_group=val_group
        )
    if config.pool and group == "speaker" and len(corpora_of(manifest)) > 1:
        return pooled_kfold(manifest, int(folds), seed=config.seed, val=config.val)
    return grouped_kfold(manifest, int(folds), group=group, seed=config.seed, val=config.val)


@dataclass(frozen=True)
class _Fold:
    """One fold to train: its number, the config, its folder and its splits."""

    index: int
    count: int
    config: TrainConfig
    fold_dir: Path
    parts: dict[str, Manifest]
    resume: bool
    scoring: _Scoring


def _train_fold(fold: _Fold, *, progress: bool) -> dict[str, Any]:
    """Train one fold's run, score it under the perturbations, write and return its
    metrics (a job: it runs here or on a cluster node)."""
    console.rule(f"fold {fold.index}/{fold.count}")
    started = time.perf_counter()
    result = train_run(
        fold.config,
        fold.fold_dir,
        resume=fold.resume,
        progress=progress,
        splits=fold.parts,
        web=False,
    )
    # the fold's whole wall time in its process (features, training, export, report)
    fold_metrics = result.metrics | {"wall_seconds": round(time.perf_counter() - started, 2)}
    fold_run = RunFolder(fold.fold_dir)
    fold_metrics = _perturbed(fold_run, fold_metrics, fold.scoring)
    write_json(fold_run.metrics, fold_metrics)
    console.print(
        f"fold {fold.index}: accuracy {fold_metrics.get('accuracy', float('nan')):.3f} "
        f"UA {fold_metrics.get('balanced_accuracy', float('nan')):.3f} "
        f"in {fold_metrics['wall_seconds']:.0f} s"
    )
    return fold_metrics


@dataclass(frozen=True)
class _Scoring:
    """How each fold's test clips are scored under corruption."""

    specs: tuple[str, ...]
    seed: int
    babble: str | None
    """The manifest babble is made from, as given (None: evaluate_run's default)."""


def _perturbed(
    fold_run: RunFolder, fold_metrics: dict[str, Any], scoring: _Scoring
) -> dict[str, Any]:
    """``fold_metrics`` with its test clips scored under the SPECs (the same object when
    there is nothing to add: no SPECs, or an earlier pass with the same SPECs, seed and
    babble manifest)."""
    if not scoring.specs or "accuracy" not in fold_metrics:
        return fold_metrics
    earlier = fold_metrics.get("perturbations") or []
    if (
        [r.get("spec") for r in earlier] == list(scoring.specs)
        and all(r.get("seed") == scoring.seed for r in earlier)
        and fold_metrics.get("babble_manifest") == scoring.babble
    ):
        return fold_metrics
    test = fold_run.root / "splits" / "test.jsonl"
    scored = evaluate_run(
        fold_run.root,
        test,
        fold_run.root / "perturbed",
        perturb=scoring.specs,
        seed=scoring.seed,
        babble=scoring.babble,
        progress=False,
    )
    added = {"perturbations": scored["perturbations"], "babble_manifest": scoring.babble}
    if "babble_from" in scored:
        added["babble_from"] = scored["babble_from"]
    return fold_metrics | added


def aggregate_perturbations(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each SPEC's scores and changes from clean as mean and std over the folds."""
    by_spec: dict[str, list[dict[str, Any]]] = {}
    for fold in results:
        for fold_row in fold.get("perturbations") or []:
            by_spec.setdefault(fold_row["spec"], []).append(fold_row)
    rows = []
    for spec, fold_rows in by_spec.items():
        first = fold_rows[0]
        row: dict[str, Any] = {
            "spec": spec,
            "family": first.get("family"),
            "snr": first.get("snr"),
            "seed": first.get("seed"),
            "n_folds": len(fold_rows),
        }
        for key in (*SCORES, *(f"{k}_change" for k in SCORES)):
            values = [float(r[key]) for r in fold_rows if r.get(key) is not None]
            if values:
                row[key] = round(float(np.mean(values)), 4)
                row[f"{key}_std"] = round(float(np.std(values)), 4)
        rows.append(row)
    return rows


def aggregate_folds(results: list[dict[str, Any]]) -> dict[str, Any]:
    """Mean and std of the summary metrics, and the confusion summed over folds (aligned by
    label name, since a fold may lack a class)."""
    scored = [r for r in results if "accuracy" in r]
    mean, std = mean_std(scored)
    labels = sorted({label for r in scored for label in r["labels"]})
    index = {label: i for i, label in enumerate(labels)}
    confusion = np.zeros((len(labels), len(labels)), dtype=np.int64)
    for r in scored:
        idx = [index[label] for label in r["labels"]]
        confusion[np.ix_(idx, idx)] += np.asarray(r["confusion"], dtype=np.int64)
    first = results[0] if results else {}
    latencies = [r["latency_ms"] for r in results if r.get("latency_ms") is not None]
    # --model auto: what each fold kept (one model, or an ensemble's members joined by +)
    chosen = Counter(r["selection"]["chosen"] for r in results if r.get("selected_by"))
    aggregate: dict[str, Any] = {
        "kind": "cv",
        "model": first.get("selected_by") or first.get("model"),
        "family": first.get("family"),
        "params": first.get("params"),
        "n_folds": len(results),
        "folds": results,
        "mean": mean,
        "std": std,
        "labels": labels,
        "confusion": confusion.tolist(),
        "n": int(sum(r.get("n", 0) for r in scored)),
        "train_seconds": round(sum(r.get("train_seconds", 0.0) for r in results), 2),
        # each fold's wall time as its metrics.json keeps it (None: a fold trained before
        # audioclf recorded it, or one whose selection was made again with --resume)
        "fold_wall_seconds": [r.get("wall_seconds") for r in results],
        "latency_ms": float(np.mean(latencies)) if latencies else None,
    }
    if chosen:  # --model auto: which model each fold kept
        aggregate["selected"] = dict(chosen.most_common())
        families = {r.get("family") for r in results}
        aggregate["family"] = families.pop() if len(families) == 1 else "mixed"
        aggregate["params"] = None if len(chosen) > 1 else first.get("params")
    aggregate |= {key: mean[key] for key in SUMMARY_KEYS if key in mean}
    per_corpus = aggregate_per_corpus(scored)
    if per_corpus:
        aggregate["per_corpus"] = per_corpus
    return aggregate


def aggregate_per_corpus(results: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Each corpus's WA and UA as mean and std over the folds that tested it, and its
    test clips summed (empty for folds of one corpus)."""
    by_corpus: dict[str, list[dict[str, Any]]] = {}
    for fold in results:
        for name, scores in (fold.get("per_corpus") or {}).items():
            by_corpus.setdefault(name, []).append(scores)
    out: dict[str, dict[str, Any]] = {}
    for name, rows in sorted(by_corpus.items()):
        row: dict[str, Any] = {"n_folds": len(rows), "n": int(sum(r["n"] for r in rows))}
        for key in ("accuracy", "balanced_accuracy"):
            values = [float(r[key]) for r in rows]
            row[key] = round(float(np.mean(values)), 4)
            row[f"{key}_std"] = round(float(np.std(values)), 4)
        out[name] = row
    return out

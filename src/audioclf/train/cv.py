"""Grouped k-fold cross-validation: every speaker is tested exactly once, never trained on
in the same fold; the result is mean ± std over folds, as papers report it.

``runs/NAME-cv/foldK/`` are ordinary run folders (resumable one by one); the top folder
gets the aggregate metrics.json and report.html.
"""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from audioclf.console import console
from audioclf.data.labels import apply_label_ops
from audioclf.data.split import grouped_kfold, leave_one_group_out
from audioclf.evaluate.metrics import SUMMARY_KEYS, mean_std
from audioclf.evaluate.report import write_run_report
from audioclf.formats.atomic import write_json
from audioclf.formats.manifest import read_manifest
from audioclf.formats.runfolder import RunFolder
from audioclf.train.config import TrainConfig
from audioclf.train.run import train_run

LOSO = "loso"


def cross_validate(
    config: TrainConfig,
    out_dir: str | Path,
    *,
    folds: int | str = 5,
    group: str = "speaker",
    resume: bool = False,
    progress: bool = True,
) -> dict[str, Any]:
    """Train one run per fold (``folds`` = K or ``"loso"`` for leave-one-group-out) and
    write the aggregate ``metrics.json`` (``folds``, ``mean``, ``std``) and report."""
    if config.data is None:
        raise ValueError("no data: give --data MANIFEST.jsonl")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    config.to_yaml(out / "config.yaml")
    manifest = read_manifest(config.data)
    if config.label_map:
        manifest = apply_label_ops(manifest, mapping=config.label_map)
    if folds == LOSO:
        fold_splits = leave_one_group_out(manifest, group=group, val=config.val, seed=config.seed)
    else:
        fold_splits = grouped_kfold(
            manifest, int(folds), group=group, seed=config.seed, val=config.val
        )
    results: list[dict[str, Any]] = []
    for i, splits in enumerate(fold_splits, start=1):
        fold_dir = out / f"fold{i}"
        fold_run = RunFolder(fold_dir)
        if resume and fold_run.metrics.is_file():
            console.print(f"fold {i}/{len(fold_splits)}: done earlier, reusing {fold_dir}")
            results.append(fold_run.read_metrics())
            continue
        console.rule(f"fold {i}/{len(fold_splits)}")
        parts = {"train": splits.train, "val": splits.val, "test": splits.test}
        started = time.perf_counter()
        result = train_run(config, fold_dir, resume=resume, progress=progress, splits=parts)
        # the fold's whole wall time in this process (features, training, export, report)
        fold_metrics = result.metrics | {"wall_seconds": round(time.perf_counter() - started, 2)}
        write_json(fold_run.metrics, fold_metrics)
        results.append(fold_metrics)
        console.print(
            f"fold {i}: accuracy {fold_metrics.get('accuracy', float('nan')):.3f} "
            f"UA {fold_metrics.get('balanced_accuracy', float('nan')):.3f} "
            f"in {fold_metrics['wall_seconds']:.0f} s"
        )
    metrics = aggregate_folds(results)
    metrics["group"] = group
    metrics["data"] = config.data
    write_json(out / "metrics.json", metrics)
    write_run_report(out)
    return metrics


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
    return aggregate

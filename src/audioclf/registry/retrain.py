"""Retrain a registered model on its base data plus the feedback pool, and promote the
candidate only if it beats production on the same fixed test split.

The test split is the production run's own ``splits/test.jsonl`` — speaker-independent,
fixed across retrains so scores compare — and nothing that shares a clip or a speaker
with it is trained on. Feedback clips only ever join the training split. The candidate
is trained into a new run folder and registered; production changes only in the final
``promote`` transaction, so a crash at any earlier point leaves it untouched. A lease in
the database (:mod:`audioclf.registry.lock`) refuses a second retrain of the same model.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from audioclf.console import console
from audioclf.data.labels import apply_label_ops
from audioclf.data.split import split_manifest
from audioclf.evaluate.evaluate_run import evaluate_run
from audioclf.formats.atomic import write_json
from audioclf.formats.manifest import Manifest, read_manifest
from audioclf.formats.runfolder import RunFolder
from audioclf.registry.db import RegistryError
from audioclf.registry.feedback import sweep_orphans
from audioclf.registry.feedback_pool import read_pool
from audioclf.registry.lock import Lease
from audioclf.registry.store import Registry
from audioclf.train.config import TrainConfig
from audioclf.train.run import train_run

METRIC = "balanced_accuracy"


@dataclass(frozen=True)
class RetrainResult:
    """The outcome, also written as ``comparison.json`` in the candidate's run folder."""

    name: str
    production_version: int
    candidate_version: int
    candidate_run: str
    production_score: float
    candidate_score: float
    margin: float
    promoted: bool
    n_train: int
    n_val: int
    n_test: int
    n_feedback: int


def training_pool(base: Manifest, test: Manifest, feedback: Manifest) -> Manifest:
    """Base clips that share neither a clip id, a file nor a speaker with ``test``."""
    test_ids = {c.id for c in test}
    test_paths = {str(Path(c.path).resolve()) for c in test}
    test_speakers = {c.speaker for c in test if c.speaker is not None}
    return base.filter(
        lambda c: (
            c.id not in test_ids
            and str(Path(c.path).resolve()) not in test_paths
            and (c.speaker is None or c.speaker not in test_speakers)
        )
    )


def _held_out_metric(run_dir: Path, test_manifest: Path, out: Path) -> float:
    metrics: dict[str, Any] = evaluate_run(run_dir, test_manifest, out, progress=False)
    return float(metrics[METRIC])


def retrain(
    name: str,
    data: str | Path,
    *,
    registry: Registry,
    feedback_dir: Path,
    margin: float = 0.01,
    out_dir: Path | None = None,
    progress: bool = True,
    epochs: int | None = None,
    lock_ttl: float = 600.0,
) -> RetrainResult:
    """Train a candidate for ``name`` on ``data`` + feedback; promote it if better by
    ``margin`` balanced accuracy on production's test split. ``epochs`` overrides the
    production config's (for quick checks)."""
    with Lease(registry.sessions, f"retrain:{name}", ttl_seconds=lock_ttl):
        return _retrain_locked(
            name, Path(data), registry, feedback_dir, margin, out_dir, progress, epochs
        )


def _retrain_locked(
    name: str,
    data: Path,
    registry: Registry,
    feedback_dir: Path,
    margin: float,
    out_dir: Path | None,
    progress: bool,
    epochs: int | None,
) -> RetrainResult:
    production = registry.production(name)
    prod_run = RunFolder(production.run_dir)
    if not prod_run.config.is_file() or not prod_run.split("test").is_file():
        raise RegistryError(
            f"{prod_run.root}: the production run of {name!r} has no config.yaml or "
            "splits/test.jsonl; retraining needs both (the test split is kept fixed)"
        )
    config = TrainConfig.from_yaml(prod_run.config, data=str(data), epochs=epochs)
    test = read_manifest(prod_run.split("test"))
    base = read_manifest(data)
    sweep_orphans(registry.sessions, feedback_dir)
    feedback = read_pool(feedback_dir, name)
    if config.label_map:
        base = apply_label_ops(base, mapping=config.label_map)
    unknown = sorted(set(feedback.labels) - set(production.labels))
    if unknown:
        feedback = feedback.filter(lambda c: c.label in production.labels)
        console.print(f"[yellow]warning:[/] feedback labels {unknown} are not classes; skipped")
    pool = training_pool(base, test, Manifest())
    if len(pool) < 2:
        raise RegistryError(
            f"{data}: fewer than two clips remain once the test split's speakers are removed"
        )
    # the test split is kept, so a run tested on a held-out corpus takes val by speaker
    by = "speaker" if config.split == "corpus" else config.split
    parts = split_manifest(pool, by=by, val=config.val, test=0.0, seed=config.seed)
    splits = {"train": parts.train + feedback, "val": parts.val, "test": test}

    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    root = out_dir or prod_run.root.parent
    candidate_dir = root / f"{name}-retrain-{stamp}"
    console.print(
        f"retraining {name} (production v{production.version}): {len(splits['train'])} train "
        f"clips ({len(feedback)} from feedback), {len(parts.val)} val, {len(test)} test",
        highlight=False,
    )
    train_run(config, candidate_dir, progress=progress, splits=splits)
    compare_dir = candidate_dir / "comparison"
    prod_score = _held_out_metric(prod_run.root, prod_run.split("test"), compare_dir / "production")
    cand_score = _held_out_metric(candidate_dir, prod_run.split("test"), compare_dir / "candidate")
    candidate = registry.add(candidate_dir, name)
    promoted = cand_score - prod_score >= margin
    result = RetrainResult(
        name=name,
        production_version=production.version,
        candidate_version=candidate.version,
        candidate_run=str(candidate_dir),
        production_score=prod_score,
        candidate_score=cand_score,
        margin=margin,
        promoted=promoted,
        n_train=len(splits["train"]),
        n_val=len(parts.val),
        n_test=len(test),
        n_feedback=len(feedback),
    )
    write_json(compare_dir / "comparison.json", asdict(result))
    (compare_dir / "comparison.md").write_text(_report(result))
    if promoted:
        registry.promote(name, candidate.version)
    return result


def _report(r: RetrainResult) -> str:
    verdict = (
        f"promoted v{r.candidate_version} to production"
        if r.promoted
        else f"kept v{r.production_version} in production; v{r.candidate_version} stays candidate"
    )
    return (
        f"# Retrain of {r.name}\n\n"
        f"Same test split for both ({r.n_test} clips, the production run's splits/test.jsonl).\n\n"
        f"| version | role | {METRIC} |\n|---|---|---|\n"
        f"| v{r.production_version} | production | {r.production_score:.4f} |\n"
        f"| v{r.candidate_version} | candidate | {r.candidate_score:.4f} |\n\n"
        f"Required gain: {r.margin:+.4f}; measured: {r.candidate_score - r.production_score:+.4f}."
        f"\n\nDecision: {verdict}.\n\n"
        f"Candidate trained on {r.n_train} clips ({r.n_feedback} from feedback), "
        f"validated on {r.n_val}.\n\n```json\n{json.dumps(asdict(r), indent=2)}\n```\n"
    )

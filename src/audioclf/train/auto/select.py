"""``--model auto``: train several candidate models on one split, build the accurate one
— by default the best neural and the best classical candidate served together as an
ensemble — and serve the fastest model within a point of it, never looking at the test
split.

The whole of ``auto``, top to bottom:

- :mod:`~audioclf.train.auto.candidates`: which models it tries, cheapest first;
- this module: the one split, each candidate trained with
  :func:`audioclf.train.single.train_single` under its share of the time budget, the
  classical ones with speed views and with their fits shared
  (:func:`audioclf.models.shared_fits.sharing`); then the pair, and the choice of what
  to serve;
- :mod:`~audioclf.train.auto.inner_cv`: the classical candidates' held-out estimate;
- :mod:`~audioclf.train.auto.judge`: the estimates compared, the best of each family;
- :mod:`~audioclf.train.auto.pair_weights`: the neural member's weight in the pair;
- :mod:`~audioclf.train.auto.front`: the accuracy-versus-latency front and the serving
  rule (``serve``, ``tolerance``, ``latency_budget`` in the config);
- :mod:`~audioclf.train.auto.keep`: what the run folder keeps and records.

Why an ensemble, how the weight is chosen and why the fastest close model is served:
docs/design.md ("``--model auto``") with the measurements in docs/benchmarks.md.
``model_options: {ensemble: false}`` builds no pair.
"""

from __future__ import annotations

import time
from functools import partial
from typing import Any

from audioclf import jobs
from audioclf import progress as progress_report
from audioclf.console import console
from audioclf.formats.manifest import Manifest
from audioclf.formats.runfolder import RunFolder
from audioclf.inference.latency import measure_latency
from audioclf.jobs import Pending
from audioclf.models.shared_fits import sharing
from audioclf.train.auto.candidates import (
    Candidate,
    SelectionError,
    candidates,
    student_options,
    wants_ensemble,
    wants_student,
)
from audioclf.train.auto.front import Choice, Point, choose, front_rows
from audioclf.train.auto.inner_cv import inner_cv_scores
from audioclf.train.auto.judge import best_of, ensemble_pair
from audioclf.train.auto.keep import CANDIDATE_DIR, build_pair, keep_best, pair_name
from audioclf.train.config import TrainConfig
from audioclf.train.distill import STUDENT, distill_student
from audioclf.train.single import RunResult, resolve_splits, train_single

FRONT_SECONDS = 3.0
"""The clip length the front's latencies are measured at."""
STUDENT_SHARE = 1.0
"""The share of ``--time-budget`` the distilled student's epochs get, on top of the
candidates' budget: its epochs are passes over a transfer set ``views + 1`` times the
training clips, and a quarter of the budget left it a few passes, below the CNN trained
on the labels (docs/benchmarks.md, "Distilled student")."""
NEURAL_FLOOR = 0.4
"""The share of ``--time-budget`` the neural candidates get even when the classical ones
overrun it (docs/design.md, "Fold time")."""


def select_run(
    config: TrainConfig,
    run: RunFolder,
    *,
    resume: bool,
    progress: bool,
    splits: dict[str, Manifest] | None,
) -> RunResult:
    """Train every candidate of ``config`` into ``run/candidates/``, keep the best (or the
    weighted pair) in ``run``, and return it as the run's result."""
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
    estimate = partial(inner_cv_scores, seed=config.seed)
    executor = jobs.current()
    # On a cluster the neural candidates train as jobs while the classical ones fit here
    # (sharing their fits), so each neural one gets its whole share of the budget.
    away: dict[str, Pending[RunResult]] = {}
    order = sorted(chosen, key=lambda c: c.classical) if executor.distributed else chosen
    progress_report.plan(len(order) + int(ensemble) + int(wants_student(config)))
    with sharing():
        for i, cand in enumerate(order):
            folder = run.root / CANDIDATE_DIR / cand.model
            sub = RunFolder(folder)
            progress_report.stage(f"candidate {i + 1}/{len(chosen)}: {cand.model}")
            if resume and sub.metrics.is_file() and sub.card.is_file():
                console.print(f"{cand.model}: done earlier, reusing {folder}")
                results[cand.model] = RunResult(folder, sub.read_metrics(), sub.read_card())
                reused_seconds += float(results[cand.model].metrics.get("train_seconds") or 0.0)
                continue
            budget = None
            if not cand.classical:
                neural_started = neural_started or time.perf_counter()
                torch_left = sum(not c.classical for c in order[i:])
                budget = _budget(config, started, neural_started, torch_left)
            cand_config = _candidate_config(config, cand, budget, sub, resume=resume)
            if executor.distributed and not cand.classical:
                console.print(f"candidate {cand.model}: training as a job on the cluster")
                away[cand.model] = executor.submit(
                    train_single, cand_config, sub, resume=resume, progress=False, splits=splits
                )
                continue
            console.rule(f"candidate {i + 1}/{len(chosen)}: {cand.model}")
            results[cand.model] = train_single(
                cand_config,
                sub,
                resume=resume,
                progress=progress,
                splits=splits,
                estimate=estimate if cand.classical else None,
            )
    for name, pending in away.items():
        results[name] = pending.result()
    results = {c.model: results[c.model] for c in chosen if c.model in results}
    facts: dict[str, Any] = {}
    trained = dict(results)
    pair = ensemble_pair(results) if ensemble else None
    teacher = best_of(results, results)
    if ensemble:
        progress_report.stage("weighing the pair")
    if pair is not None:
        built, facts = build_pair(run, results, pair, progress=progress)
        if built is not None:
            teacher = pair_name(pair)
            trained[teacher] = built
            facts["members"] = list(pair)
            facts["combine"] = "product"
    if teacher is None:
        raise SelectionError("no candidate has a validation score to compare")
    if wants_student(config):
        trained[STUDENT] = _student(config, run, trained[teacher], splits, resume, progress)
    seconds = time.perf_counter() - started + reused_seconds
    choice, rule = serve_choice(config, trained, teacher)
    if choice.name != teacher:
        facts.pop("members", None)
        facts.pop("combine", None)
    return keep_best(run, trained, seconds=seconds, best=choice.name, extra=facts | rule)


def _student(
    config: TrainConfig,
    run: RunFolder,
    teacher: RunResult,
    splits: dict[str, Manifest],
    resume: bool,
    progress: bool,
) -> RunResult:
    """The accurate model distilled into ``candidates/student`` on the selection's split
    (reused when a resumed selection finished it). Its epochs get
    :data:`STUDENT_SHARE` of ``--time-budget``; the teacher's scoring of the transfer
    set comes on top (cached for the next run)."""
    sub = RunFolder(run.root / CANDIDATE_DIR / STUDENT)
    progress_report.stage(f"student: distilled from {teacher.run_dir.name}")
    console.rule(f"student: distilled from {teacher.run_dir.name}")
    if resume and sub.metrics.is_file() and sub.card.is_file():
        return RunResult(sub.root, sub.read_metrics(), sub.read_card())
    budget = config.time_budget * STUDENT_SHARE if config.time_budget else None
    cand_config = _candidate_config(config, Candidate(STUDENT), budget, sub, resume=False)
    return distill_student(
        teacher.run_dir,
        cand_config,
        sub,
        splits=splits,
        resume=resume,
        progress=progress,
        **student_options(config),
    )


def serve_choice(
    config: TrainConfig, trained: dict[str, RunResult], best: str
) -> tuple[Choice, dict[str, Any]]:
    """Which trained model to serve by the config's rule (train/auto/front.py), ``best``
    being the most accurate one by the selection's own judgement (``--serve best``), and
    the record of the choice: the rule, the reason and the front."""
    points = []
    for name, result in trained.items():
        score = result.metrics.get("val_balanced_accuracy")
        if isinstance(score, float):
            latency = measure_latency(result.run_dir, seconds=FRONT_SECONDS, budget=1.0)
            points.append(Point(name, score, latency, result.metrics.get("params")))
    if config.serve == "best" and config.latency_budget is None:
        choice = Choice(best, "the most accurate model by auto's held-out estimates (--serve best)")
    else:
        choice = choose(
            points,
            serve="fastest",
            tolerance=config.tolerance,
            latency_budget=config.latency_budget,
        )
    console.print(f"auto: serving [bold]{choice.name}[/]: {choice.reason}", highlight=False)
    rule = {
        "serve": config.serve,
        "tolerance": config.tolerance,
        "latency_budget_ms": config.latency_budget,
        "reason": choice.reason,
        "accurate": best,
    }
    return choice, {"rule": rule, "front": front_rows(points, choice.name)}


def _candidate_config(
    config: TrainConfig, cand: Candidate, budget: float | None, sub: RunFolder, *, resume: bool
) -> TrainConfig:
    """The candidate's own config: its model and options, its share of the budget, and
    the selection's speed and noise views for the classical candidates (the CNN has
    ``augment``).
    A resumed candidate keeps the config it started with."""
    if resume and sub.config.is_file():
        return TrainConfig.from_yaml(sub.config)
    return config.model_copy(
        update={
            "model": cand.model,
            "model_options": cand.options,
            "time_budget": budget,
            "speeds": config.speeds if cand.classical else [],
            "noise_views": config.noise_views if cand.classical else [],
        }
    )


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

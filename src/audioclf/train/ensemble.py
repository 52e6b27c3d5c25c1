"""Build an ensemble run: several finished runs served as one model, their probabilities
combined (:mod:`audioclf.inference.combine`), scored on their common test split. Why
ensembles exist: docs/design.md ("Ensembles are run folders too").

```
runs/NAME/
  model.json, labels.json    family "ensemble": members, combine rule, label order
  members/K-RUN/             each member's serving files (model card, weights, ONNX)
  splits/test.jsonl          the members' common test split, when they share one
  metrics.json, report.html  the ensemble scored on that split, and its cost per second
                             of audio by member and stage (inference/cost.py)
```

``combine`` is ``product`` (renormalised geometric mean: a class one member rules out
stays out) or ``mean`` (soft voting); ``weights`` (one per member, default equal) make it
a weighted geometric or arithmetic mean. ``--model auto`` picks the weights of its pair
on the validation clips (train/auto/pair_weights.py).
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from audioclf.evaluate.evaluate_run import evaluate_run
from audioclf.evaluate.report import write_run_report
from audioclf.formats.atomic import write_json
from audioclf.formats.runfolder import MEMBERS, ModelCard, RunFolder
from audioclf.inference.combine import COMBINES, Combine, EnsembleError, check_weights
from audioclf.inference.cost import measure_cost
from audioclf.inference.latency import measure_latency

# what a member needs to serve; checkpoints, plots and splits stay behind
_SERVING_FILES = ("model.json", "labels.json", "metrics.json", "model.onnx", "config.yaml")


def _check(cards: list[ModelCard], runs: list[Path]) -> None:
    if len(cards) < 2:
        raise EnsembleError("an ensemble needs at least two runs")
    labels = set(cards[0].labels)
    for card, run in zip(cards, runs, strict=True):
        if set(card.labels) != labels:
            raise EnsembleError(
                f"{run}: classes {sorted(card.labels)} differ from {sorted(labels)} of "
                f"{runs[0]}; members must be trained on the same classes"
            )
        if card.speaker_norm:
            raise EnsembleError(f"{run}: a speaker-normalised run cannot score clips alone")
        if card.family == "ensemble":
            raise EnsembleError(f"{run}: is an ensemble itself; list its members instead")
    rates = {card.sample_rate for card in cards}
    if len(rates) > 1:
        raise EnsembleError(f"members run at different sample rates {sorted(rates)}")


def build_ensemble(
    runs: Sequence[str | Path],
    out_dir: str | Path,
    *,
    combine: Combine = "product",
    weights: Sequence[float] | None = None,
    progress: bool = True,
) -> dict[str, Any]:
    """Write an ensemble run folder of ``runs`` into ``out_dir``; score it on the members'
    common test split when they have one. ``weights``: one per run (normalised to sum to
    1), equal when None. Returns its metrics."""
    if combine not in COMBINES:
        raise EnsembleError(f"combine must be one of {', '.join(COMBINES)}, not {combine!r}")
    paths = [Path(r) for r in runs]
    shares = check_weights(weights, len(paths))
    cards = [RunFolder(p).read_card() for p in paths]
    _check(cards, paths)
    out = RunFolder(Path(out_dir))
    if out.root.resolve() in {p.resolve() for p in paths}:
        raise EnsembleError(f"{out.root}: the ensemble cannot be written over a member")
    shutil.rmtree(out.root / MEMBERS, ignore_errors=True)
    names = []
    for i, (path, card) in enumerate(zip(paths, cards, strict=True), start=1):
        name = f"{i}-{path.resolve().name}"
        target = out.root / MEMBERS / name
        target.mkdir(parents=True)
        for file in (*_SERVING_FILES, card.weights):
            if (path / file).is_file():
                shutil.copy2(path / file, target / file)
        names.append(name)
    first = cards[0]
    card = ModelCard(
        model="ensemble",
        family="ensemble",
        input="ensemble",
        sample_rate=first.sample_rate,
        n_samples=max(c.n_samples for c in cards),
        eval_hop=first.eval_hop,
        labels=list(first.labels),
        params=sum(c.params for c in cards),
        options={"members": names, "models": [c.model for c in cards], "combine": combine}
        | ({"weights": shares} if shares is not None else {}),
        onnx=False,
        weights=MEMBERS,
        task=first.task,
    )
    out.write_card(card)
    member_metrics = [_read_metrics(p) for p in paths]
    metrics: dict[str, Any] = {
        "model": "ensemble",
        "family": "ensemble",
        "members": [
            {"run": str(p), "model": c.model, "accuracy": m.get("accuracy")}
            for p, c, m in zip(paths, cards, member_metrics, strict=True)
        ],
        "combine": combine,
        "weights": shares,
        "params": card.params,
        "train_seconds": round(sum(float(m.get("train_seconds") or 0) for m in member_metrics), 2),
    }
    test = _common_test_split(paths)
    if test is not None:
        metrics |= _score_on_test(out, test, metrics, progress=progress)
    metrics["latency_ms"] = measure_latency(out.root)
    metrics["cost"] = (
        measure_cost(out.root, test)
        if test is not None
        else {"clips": 0, "skipped": "the members share no test split"}
    )
    write_json(out.metrics, metrics)
    write_run_report(out.root)
    return metrics


def _read_metrics(path: Path) -> dict[str, Any]:
    run = RunFolder(path)
    return run.read_metrics() if run.metrics.is_file() else {}


def _common_test_split(paths: list[Path]) -> Path | None:
    """The members' test split when every member has the same one."""
    splits = [RunFolder(p).split("test") for p in paths]
    if not all(s.is_file() for s in splits):
        return None
    texts = {s.read_text() for s in splits}
    return splits[0] if len(texts) == 1 else None


def _score_on_test(
    out: RunFolder, test: Path, metrics: dict[str, Any], *, progress: bool
) -> dict[str, Any]:
    """The ensemble's metrics on the members' test split (kept in ``splits/``)."""
    out.splits.mkdir(exist_ok=True)
    shutil.copy2(test, out.split("test"))
    write_json(out.metrics, metrics)  # evaluate_run reads the run's own metrics
    with tempfile.TemporaryDirectory() as tmp:
        scored = evaluate_run(out.root, out.split("test"), tmp, progress=progress)
    keep = {k: v for k, v in scored.items() if k not in ("run", "data", "label_map", "model")}
    return keep | {"n_test": scored.get("n_scored", scored.get("n"))}

"""The CNN and the best classical model of each `--model auto` fold, served as one ensemble.

    .venv/bin/python -m benchmarks.ensemble emodb fsdd --source auto-fast-4min

Reads the folds of a finished `benchmarks.protocols CORPUS --model auto` run
(runs/bench/CORPUS-SOURCE/foldK/candidates/), and per fold combines the neural candidate
with the classical candidate whose inner-CV estimate was best — chosen, like auto's pick,
without the test split — via `audioclf.inference.ensemble.build_ensemble`, which scores it
on the fold's test split. Nothing is retrained; the mean ± std over folds goes into
docs/benchmarks.md next to the protocol rows.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any

from audioclf.inference.ensemble import COMBINES, build_ensemble
from audioclf.models import model_info
from audioclf.train.cv import aggregate_folds
from benchmarks.protocols import PROTOCOLS, record_row
from benchmarks.results import ROOT


def pick_members(fold: Path) -> list[Path]:
    """The fold's neural candidate and its best classical one by the held-out estimate."""
    selection = json.loads((fold / "metrics.json").read_text())["selection"]
    rows = selection["candidates"]
    neural = [r for r in rows if model_info(r["model"]).family != "classical"]
    classical = [r for r in rows if model_info(r["model"]).family == "classical"]
    if not neural or not classical:
        raise SystemExit(f"{fold}: needs a neural and a classical candidate")
    best = max(classical, key=lambda r: r["score"])
    return [fold / "candidates" / r["model"] for r in (neural[0], best)]


def run(name: str, args: argparse.Namespace) -> dict[str, Any]:
    source = Path(args.out) / f"{name}-{args.source}"
    folds = sorted(source.glob("fold*"), key=lambda p: int(p.name[4:]))
    if not folds:
        raise SystemExit(f"{source}: no folds; run benchmarks.protocols {name} --model auto first")
    variant = f"ensemble-{args.source}" + ("" if args.combine == "product" else f"-{args.combine}")
    target = Path(args.out) / f"{name}-{variant}"
    load_before = os.getloadavg()[0]
    results = []
    kept: dict[str, int] = {}
    for fold in folds:
        members = pick_members(fold)
        label = "+".join(m.name for m in members)
        kept[label] = kept.get(label, 0) + 1
        metrics = build_ensemble(
            members, target / fold.name, combine=args.combine, progress=not args.quiet
        )
        print(f"{name} {fold.name}: {label} accuracy {metrics['accuracy']:.3f}")
        results.append(metrics)
    summary = aggregate_folds(results)
    per_fold = ", ".join(f"{k}×{n}" for k, n in kept.items())
    notes = (
        f"members per fold: {per_fold}; no retraining (the auto run's candidates); "
        f"loadavg {load_before:.2f} before, {os.getloadavg()[0]:.2f} after"
    )
    record_row(name, variant, summary, notes, trained=False)
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("protocols", nargs="+", choices=sorted(PROTOCOLS))
    parser.add_argument("--source", default="auto-fast-4min", help="the auto run's variant")
    parser.add_argument("--combine", default="product", choices=COMBINES)
    parser.add_argument("--out", default=str(ROOT / "runs" / "bench"))
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args()
    for name in args.protocols:
        run(name, args)


if __name__ == "__main__":
    main()

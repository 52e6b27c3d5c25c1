"""Speaker-independent cross-validation protocols on the real corpora (issue 3's table).

    .venv/bin/python -m benchmarks.protocols emodb fsdd          # the default model (auto)
    .venv/bin/python -m benchmarks.protocols ravdess --model audioclf_default
    .venv/bin/python -m benchmarks.protocols emodb --reselect   # auto's pick again, no training
    .venv/bin/python -m benchmarks.protocols ravdess --ray      # every fold a Ray task

Each protocol prepares its manifest with the corpus recipe (cached under
benchmarks/.work/), runs grouped k-fold CV through `audioclf.train.cv`, and records the
mean ± std in docs/benchmarks.md with this command.
"""

from __future__ import annotations

import argparse
import os
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from audioclf.formats.manifest import read_manifest, write_manifest
from audioclf.train.cluster import ray_for
from audioclf.train.config import TrainConfig
from audioclf.train.cv import cross_validate
from benchmarks.results import ROOT, command_line, record

DATA = Path(os.environ.get("AUDIOCLF_DATA", ROOT.parent / "shared" / "data"))
WORK = ROOT / "benchmarks" / ".work"


@dataclass(frozen=True)
class Protocol:
    """A corpus, how to prepare it and how to fold it."""

    recipe: str
    folder: str
    folds: int | str
    description: str
    options: dict[str, Any] = field(default_factory=dict)
    fill_speaker: bool = False


PROTOCOLS = {
    "emodb": Protocol("emodb", "emodb", 5, "Emo-DB, 7 emotions, 5-fold by speaker"),
    "ravdess": Protocol("ravdess", "ravdess", 6, "RAVDESS speech, 8 emotions, 6-fold by actor"),
    "fsdd": Protocol("fsdd", "fsdd", "loso", "FSDD, 10 digits, leave-one-speaker-out"),
    # The _silence_ clips are background noise with no speaker: each is its own group.
    "speechcommands": Protocol(
        "speechcommands",
        "speechcommands",
        5,
        "Speech Commands subset, 12 classes, 5-fold by speaker",
        fill_speaker=True,
    ),
}


def fold_masks(name: str, clips: list[Any], manifest: Any) -> list[np.ndarray]:
    """The protocol's test folds over ``clips`` (the manifest's clips, in order), each as
    a boolean mask: leave one speaker out or k folds grouped by speaker, no validation."""
    # deferred: the split code loads only for the scripts that fold clips themselves
    from audioclf.data.split import grouped_kfold, leave_one_group_out

    protocol = PROTOCOLS[name]
    splits = (
        leave_one_group_out(manifest, val=0.0)
        if protocol.folds == "loso"
        else grouped_kfold(manifest, int(protocol.folds), val=0.0)
    )
    index = {c.id: i for i, c in enumerate(clips)}
    folds = []
    for split in splits:
        mask = np.zeros(len(clips), dtype=bool)
        mask[[index[c.id] for c in split.test]] = True
        folds.append(mask)
    return folds


def manifest_for(name: str) -> Path:
    """The protocol's manifest, prepared once with its recipe."""
    from audioclf.recipes import prepare

    protocol = PROTOCOLS[name]
    path = WORK / f"{name}.jsonl"
    if not path.is_file():
        WORK.mkdir(parents=True, exist_ok=True)
        result = prepare(protocol.recipe, DATA / protocol.folder, **protocol.options)
        clips = list(result.manifest)
        if protocol.fill_speaker:
            clips = [c if c.speaker else replace(c, speaker=c.id) for c in clips]
        write_manifest(clips, path)
    return path


def run(name: str, args: argparse.Namespace) -> dict[str, Any]:
    protocol = PROTOCOLS[name]
    data = manifest_for(name)
    overrides: dict[str, Any] = {
        "data": str(data),
        "model": args.model,
        "epochs": args.epochs,
        "time_budget": args.time_budget,
    }
    config = (
        TrainConfig.from_yaml(args.config, **overrides)
        if args.config
        else TrainConfig.build(**overrides)
    )
    variant = config.model + (f"-{Path(args.config).stem}" if args.config else "")
    if args.time_budget:
        variant += f"-{args.time_budget:g}min"
    out = Path(args.out) / f"{name}-{variant}"
    load_before = os.getloadavg()[0]
    if args.reselect:
        reselect(out, progress=not args.quiet)
    with _jobs(args.ray, data, out):
        metrics = cross_validate(
            config,
            out,
            folds=protocol.folds,
            group="speaker",
            resume=args.resume or args.reselect,
            progress=not args.quiet,
        )
    notes = f"loadavg {load_before:.2f} before, {os.getloadavg()[0]:.2f} after"
    if args.ray:
        notes = f"folds as Ray tasks (--ray); {notes}"
    if args.reselect:
        notes = f"pair re-chosen on the trained candidates (--reselect); {notes}"
    if metrics.get("selected"):  # --model auto: what the folds kept
        kept = ", ".join(f"{model}×{n}" for model, n in metrics["selected"].items())
        notes = f"kept {kept}; {notes}"
    record_row(name, variant, metrics, notes)
    return metrics


def _jobs(ray: bool, manifest: Path, out: Path) -> AbstractContextManager[Any]:
    """The folds' executor: Ray tasks on the cluster Ray's convention names (``--ray``),
    else this process."""
    return ray_for(manifest, out) if ray else nullcontext()


def reselect(out: Path, *, progress: bool) -> None:
    """Make every fold's ``auto`` selection again on its finished candidates (the current
    selection rule; nothing is retrained): ``train_run`` with ``--resume`` reuses each
    candidate, keeps a model anew and scores it, and the fold's train time stays what its
    candidates cost (train/auto/select.py). The cross-validation that follows, resumed, reads
    the new fold results."""
    from audioclf.train.run import train_run

    folds = sorted(out.glob("fold*"), key=lambda p: int(p.name[4:]))
    if not folds:
        raise SystemExit(f"{out}: no folds to re-select; run the protocol first")
    for fold in folds:
        config = TrainConfig.from_yaml(fold / "config.yaml")
        if config.model != "auto":
            raise SystemExit(f"{fold}: --reselect needs auto runs, not {config.model}")
        train_run(config, fold, resume=True, progress=progress)


def record_row(name: str, variant: str, metrics: dict[str, Any], notes: str) -> dict[str, Any]:
    """Record one protocol row from a cross-validation summary (``aggregate_folds``) in
    docs/benchmarks.md with the running command."""
    mean, std = metrics["mean"], metrics["std"]
    row = {
        "protocol": PROTOCOLS[name].description,
        "model": variant,
        "clips": len(read_manifest(manifest_for(name))),
        "folds": metrics["n_folds"],
        "WA": f"{mean['accuracy']:.3f} ± {std['accuracy']:.3f}",
        "UA": f"{mean['balanced_accuracy']:.3f} ± {std['balanced_accuracy']:.3f}",
        "macro-F1": f"{mean['macro_f1']:.3f} ± {std['macro_f1']:.3f}",
        "params": metrics["params"],
        "train s/fold": round(metrics["train_seconds"] / max(1, metrics["n_folds"]), 1),
        "wall s/fold": _walls(metrics.get("fold_wall_seconds") or []),
        "latency ms": round(metrics["latency_ms"], 1) if metrics["latency_ms"] else None,
        "notes": notes,
    }
    record("Speaker-independent protocols", f"{name}/{variant}", row, command_line())
    print(row)
    return row


def _walls(seconds: list[float | None]) -> str | None:
    """Each fold's wall time, as ``mean (max)``; None when a fold was reused (resumed or
    re-selected), whose time this run did not see."""
    if not seconds or any(s is None for s in seconds):
        return None
    known = [float(s) for s in seconds if s is not None]
    return f"{np.mean(known):.0f} (max {max(known):.0f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("protocols", nargs="+", choices=sorted(PROTOCOLS))
    parser.add_argument("--model", default=None, help="default: the default model (auto)")
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--config", default=None, help="YAML training config")
    parser.add_argument(
        "--time-budget", type=float, default=None, help="minutes of training per fold"
    )
    parser.add_argument("--out", default=str(ROOT / "runs" / "bench"))
    parser.add_argument("--resume", action="store_true")
    parser.add_argument(
        "--reselect",
        action="store_true",
        help="auto runs: choose the kept model again on each fold's trained candidates",
    )
    parser.add_argument("--ray", action="store_true", help="every fold a Ray task")
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args()
    for name in args.protocols:
        run(name, args)


if __name__ == "__main__":
    main()

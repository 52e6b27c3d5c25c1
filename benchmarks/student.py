"""The distilled student against its teacher and the CNN trained on the labels alone.

    .venv/bin/python -m benchmarks.student RUN [--epochs 20] [--views 4] [--unlabelled DIR]

RUN is a finished ``auto`` run. Its most accurate candidate (``selection.rule.accurate``)
is the teacher, and the student is distilled from it (:func:`audioclf.train.distill.
distill_student`) on RUN's own split into ``runs/bench/student/RUN-eEPOCHS-vVIEWS``, with
no time budget, so ``--epochs`` passes over the transfer set are what it gets. One row
records the student's test WA/UA and validation UA next to the teacher's test WA and that
of RUN's ``audioclf_default`` candidate (the same CNN family, trained on the labels), the
student's parameters and latency for a 3-second clip, and its training and teacher-scoring
seconds. The teacher's probabilities are cached (a second row on the same teacher scores
nothing).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from audioclf.formats.manifest import read_manifest
from audioclf.formats.runfolder import RunFolder
from audioclf.inference.latency import measure_latency
from audioclf.train.config import TrainConfig
from audioclf.train.distill import distill_student
from benchmarks.auto_runs import served_and_accurate
from benchmarks.results import ROOT, command_line, record

SECTION = "Distilled student"
CNN = "audioclf_default"


def _metrics(run: Path) -> dict[str, Any]:
    metrics: dict[str, Any] = json.loads((run / "metrics.json").read_text())
    return metrics


def teacher_of(run: Path) -> Path:
    """The most accurate model of the auto run ``run``: the run itself or a candidate."""
    _, accurate = served_and_accurate(_metrics(run))
    if not accurate:
        raise SystemExit(f"{run}: not an auto run (metrics.json has no selection)")
    candidate = run / "candidates" / accurate
    return candidate if candidate.is_dir() else run


def distil(run: Path, args: argparse.Namespace) -> dict[str, Any]:
    """Distil RUN's teacher with ``args``' options and return the row."""
    teacher = teacher_of(run)
    config = TrainConfig.from_yaml(run / "config.yaml").model_copy(
        update={
            "model": "student",
            "model_options": {},
            "epochs": args.epochs,
            "patience": args.epochs,
            "time_budget": None,
        }
    )
    splits = {s: read_manifest(run / "splits" / f"{s}.jsonl") for s in ("train", "val", "test")}
    out = Path(args.out) / f"{run.name}-e{args.epochs}-v{args.views}"
    unlabelled = (
        sorted(str(p) for p in Path(args.unlabelled).rglob("*.flac")) if args.unlabelled else []
    )
    distill_student(
        teacher,
        config,
        RunFolder(out),
        splits=splits,
        unlabelled=unlabelled,
        views=args.views,
        progress=False,
    )
    student = _metrics(out)
    cnn = run / "candidates" / CNN
    return {
        "run": run.name,
        "teacher": teacher.name if teacher != run else _metrics(run)["model"],
        "passes": args.epochs,
        "views": args.views,
        "unlabelled": student["transfer"]["unlabelled"],
        "transfer": student["transfer_size"],
        "WA": student["accuracy"],
        "UA": student["balanced_accuracy"],
        "val UA": student["val_balanced_accuracy"],
        "teacher WA": _metrics(teacher)["accuracy"],
        "CNN WA": _metrics(cnn)["accuracy"] if cnn.is_dir() else None,
        "params": student["params"],
        "ms/3 s": measure_latency(out, seconds=3.0),
        "train s": student["train_seconds"],
        "teacher s": student["teacher_seconds"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", type=Path, help="finished auto runs")
    parser.add_argument("--epochs", type=int, default=20, help="passes over the transfer set")
    parser.add_argument("--views", type=int, default=4)
    parser.add_argument("--unlabelled", default=None, help="a folder of unlabelled .flac speech")
    parser.add_argument("--out", default=str(ROOT / "runs" / "bench" / "student"))
    args = parser.parse_args()
    for run in args.runs:
        row = distil(run, args)
        key = f"{run.name}/{row['passes']}/{row['views']}/{row['unlabelled']}"
        record(SECTION, key, row, command_line())
        print(row, flush=True)


if __name__ == "__main__":
    main()

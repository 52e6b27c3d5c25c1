"""The default, fast and accurate side by side (issue 24's table): per task, what the default
serves under the task's speaker-independent protocol, what that costs, and the most
accurate candidate it passed over; then each task's served default over HTTP next to the
wav2vec2-base-sized model.

    .venv/bin/python -m benchmarks.fast_default emodb ravdess fsdd speechcommands
    .venv/bin/python -m benchmarks.fast_default emodb fsdd --http-only
    .venv/bin/python -m benchmarks.fast_default emodb --http-only --run emodb=runs/emodb

For each task the default model (``auto``, no options) is cross-validated by speaker
exactly as :mod:`benchmarks.protocols` does (same folds, same run folders under
``runs/bench/NAME-auto``, resumed when they are finished; its row in the protocols table
is recorded too). From every fold's run folder this reads what the serving rule chose
(``selection.rule``) and ``accurate``, the model auto judged most accurate; the row holds
the served model's WA/UA over the folds, its latency for a 3-second clip (median over the
folds of :func:`audioclf.inference.latency.measure_latency`, one ONNX Runtime thread,
feature extraction included), and the most accurate candidate's test WA and latency — so
the table says what the rule gave away for the speed it bought.

The HTTP part serves the first fold's default of each task, or the run folder given with
``--run TASK=RUN`` (a default trained with ``audioclf train`` on the task's corpus: the
server does not depend on how the run was split), one ``audioclf serve`` process
per model: RSS is the server with that model alone, after start-up and after the load) and
the wav2vec2-base-sized model of :mod:`benchmarks.serving`, and posts one 3-second Emo-DB
clip from 1, 8 and 32 concurrent clients for a fixed time (the load generator runs on the
same two cores as the server).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from audioclf.inference.latency import measure_latency
from benchmarks import protocols, serving
from benchmarks.auto_runs import served_and_accurate
from benchmarks.local_server import serve
from benchmarks.results import command_line, record

SECTION = "Fast default"
HTTP_SECTION = "Fast default over HTTP"
CLIP_SECONDS = 3.0


def protocol_args(out: str, quiet: bool) -> argparse.Namespace:
    """The arguments :func:`benchmarks.protocols.run` takes, for the plain default."""
    return argparse.Namespace(
        model=None,
        epochs=None,
        time_budget=None,
        config=None,
        out=out,
        resume=True,
        reselect=False,
        quiet=quiet,
    )


def fold_dirs(out: Path) -> list[Path]:
    """A finished cross-validation's fold folders in order."""
    return sorted(out.glob("fold*"), key=lambda p: int(p.name[4:]))


def fold_facts(fold: Path) -> dict[str, Any]:
    """What one fold's default served and what it passed over: names, test WA/UA and
    latency of a 3-s clip for the served model and the most accurate candidate."""
    metrics = json.loads((fold / "metrics.json").read_text())
    served, found = served_and_accurate(metrics)
    accurate = found or served
    best_dir = fold if accurate in (None, served) else fold / "candidates" / str(accurate)
    best = json.loads((best_dir / "metrics.json").read_text())
    return {
        "served": served,
        "accurate": accurate,
        "wa": metrics["accuracy"],
        "ua": metrics["balanced_accuracy"],
        "served_ms": measure_latency(fold, seconds=CLIP_SECONDS),
        "best_wa": best["accuracy"],
        "best_ms": measure_latency(best_dir, seconds=CLIP_SECONDS),
    }


def _mean_std(values: list[float]) -> str:
    return f"{np.mean(values):.3f} ± {np.std(values):.3f}"


def _counts(names: list[str]) -> str:
    return ", ".join(f"{name}×{n}" for name, n in Counter(names).most_common())


def task_row(name: str, folds: list[dict[str, Any]], train_s: float, note: str) -> dict[str, Any]:
    """One task's row of :data:`SECTION` from its folds' facts."""
    return {
        "protocol": protocols.PROTOCOLS[name].description,
        "WA": _mean_std([f["wa"] for f in folds]),
        "UA": _mean_std([f["ua"] for f in folds]),
        "served": _counts([f["served"] for f in folds]),
        "served ms/3 s": round(float(np.median([f["served_ms"] for f in folds])), 1),
        "best candidate": _counts([f["accurate"] for f in folds]),
        "best WA": _mean_std([f["best_wa"] for f in folds]),
        "best ms/3 s": round(float(np.median([f["best_ms"] for f in folds])), 1),
        "train s/fold": round(train_s, 1),
        "notes": note,
    }


def run_task(name: str, args: argparse.Namespace) -> Path:
    """Cross-validate the default on ``name`` (resumed where finished), record its row and
    return its first fold, the run the HTTP part serves."""
    load_before = os.getloadavg()[0]
    metrics = protocols.run(name, protocol_args(args.out, args.quiet))
    out = Path(args.out) / f"{name}-auto"
    folds = fold_dirs(out)
    facts = [fold_facts(fold) for fold in folds]
    note = f"loadavg {load_before:.2f} before, {os.getloadavg()[0]:.2f} after"
    train_s = metrics["train_seconds"] / max(1, metrics["n_folds"])
    row = task_row(name, facts, train_s, note)
    record(SECTION, name, row, command_line())
    print(row, flush=True)
    return folds[0]


def http_rows(runs: dict[str, Path], args: argparse.Namespace) -> None:
    """p50/p99 and clips/s at each concurrency, and RSS, for each run in a server of its
    own."""
    clip = serving.clip_bytes()
    env = {**os.environ, "AUDIOCLF_RATE_LIMIT_PER_MINUTE": "0"}
    for label, run in runs.items():
        with serve([str(run)], env) as (url, proc):
            idle = proc.memory_info().rss
            for clients in args.clients:
                note = f"loadavg {os.getloadavg()[0]:.2f} before"
                seconds = args.seconds * (2 if run == serving.W2V_RUN else 1)
                result = asyncio.run(serving.post_load(url, run.name, clip, clients, seconds))
                busy = proc.memory_info().rss
                row = {
                    "model": label,
                    "clients": clients,
                    "requests": result["requests"],
                    "errors": result["errors"],
                    "p50 ms": serving.round_ms(result["p50"]),
                    "p99 ms": serving.round_ms(result["p99"]),
                    "clips/s": round(result["rate"], 2),
                    "RSS MiB": f"{idle / 2**20:.0f} idle, {busy / 2**20:.0f} after",
                    "notes": note,
                }
                record(HTTP_SECTION, f"{label}/{clients}", row, command_line())
                print(row, flush=True)


def served_label(name: str, fold: Path) -> str:
    """``task: model`` for the HTTP table."""
    served, _ = served_and_accurate(json.loads((fold / "metrics.json").read_text()))
    return f"{name}: {served}"


def given_runs(pairs: list[str]) -> dict[str, Path]:
    """``TASK=RUN`` pairs as ``{task: run folder}``; a malformed pair or a missing folder
    is an error naming it."""
    runs = {}
    for pair in pairs:
        task, sep, folder = pair.partition("=")
        if not sep or task not in protocols.PROTOCOLS or not Path(folder, "model.json").is_file():
            raise SystemExit(f"--run {pair}: expected TASK=RUN with a task and a run folder")
        runs[task] = Path(folder)
    return runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tasks", nargs="+", choices=sorted(protocols.PROTOCOLS))
    parser.add_argument("--out", default=str(protocols.ROOT / "runs" / "bench"))
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 8, 32])
    parser.add_argument("--seconds", type=float, default=10.0, help="load time per level")
    parser.add_argument(
        "--http-only", action="store_true", help="serve the tasks' finished first folds only"
    )
    parser.add_argument(
        "--run",
        action="append",
        default=[],
        metavar="TASK=RUN",
        help="with --http-only: serve this run folder for TASK instead of its first fold",
    )
    parser.add_argument("--no-wav2vec2", action="store_true")
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args()
    given = given_runs(args.run)
    if given and not args.http_only:
        parser.error("--run serves a finished run: use it with --http-only")
    firsts = {}
    for name in args.tasks:
        out = Path(args.out) / f"{name}-auto"
        if name in given:
            firsts[name] = given[name]
        else:
            firsts[name] = fold_dirs(out)[0] if args.http_only else run_task(name, args)
    runs = {served_label(name, fold): fold for name, fold in firsts.items()}
    if not args.no_wav2vec2:
        serving.SERVING.mkdir(parents=True, exist_ok=True)
        runs[serving.W2V_LABEL] = serving.wav2vec2_run(per_speaker=6)
    http_rows(runs, args)


if __name__ == "__main__":
    main()

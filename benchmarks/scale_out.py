"""Scale-out on Ray: the same commands on one process and on a two-node Ray cluster.

    .venv/bin/python -m benchmarks.scale_out cv --corpus ravdess \
        --cache runs/bench-cache/ravdess-warm
    .venv/bin/python -m benchmarks.scale_out serve --run runs/emodb-default
    .venv/bin/python -m benchmarks.scale_out batch --run runs/fsdd-default --corpus fsdd

The cluster is two Ray nodes on this machine, each with one CPU: `ray start --head
--num-cpus 1` and `ray start --address ... --num-cpus 1`, with token authentication (a
token drawn for the run), stopped afterwards with `ray stop` (which stops every Ray on
the machine). Every command runs as a subprocess (`audioclf ...`, the same line with
`--ray` on the cluster), so wall times include starting Python and connecting.

- `cv`: a K-fold CV of the default model (no `--model`), local and with `--ray`, both
  on the same warm feature cache: wall time, WA/UA, what each fold kept.
- `serve`: `audioclf serve RUN` (one uvicorn process) next to `audioclf serve RUN --ray
  --replicas 1|2` (one CPU each): p50 and clips/s of a 3-s clip at 8 and 32 clients.
- `batch`: `audioclf predict RUN --manifest M --out P` over every clip of a corpus,
  local and with `--ray`: clips per second.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from benchmarks.local_server import free_port, serve
from benchmarks.protocols import PROTOCOLS, manifest_for
from benchmarks.results import ROOT, command_line, record
from benchmarks.serving import clip_bytes, post_load, round_ms

SECTION = "Scale-out on Ray"
AUDIOCLF = Path(sys.executable).with_name("audioclf")
RAY = Path(sys.executable).with_name("ray")
NODE_CPUS = 1


@contextmanager
def two_nodes() -> Iterator[dict[str, str]]:
    """A head and a worker node on this machine (one CPU each); the environment that
    reaches them (RAY_ADDRESS and the token)."""
    port = free_port()
    env = os.environ | {
        "RAY_USAGE_STATS_ENABLED": "0",
        "RAY_AUTH_MODE": "token",
        "RAY_AUTH_TOKEN": secrets.token_hex(32),
    }
    quiet = {"env": env, "check": True, "stdout": subprocess.DEVNULL}
    head = [str(RAY), "start", "--head", f"--port={port}", f"--num-cpus={NODE_CPUS}"]
    subprocess.run([*head, "--include-dashboard=false"], **quiet)  # type: ignore[call-overload]
    try:
        worker = [str(RAY), "start", f"--address=127.0.0.1:{port}", f"--num-cpus={NODE_CPUS}"]
        subprocess.run(worker, **quiet)  # type: ignore[call-overload]
        yield env | {"RAY_ADDRESS": f"127.0.0.1:{port}"}
    finally:
        subprocess.run([str(RAY), "stop", "--force"], env=env, stdout=subprocess.DEVNULL)


def timed(command: list[str], env: Mapping[str, str]) -> float:
    """Wall seconds of one command (its output discarded; a failure raises)."""
    started = time.perf_counter()
    subprocess.run(command, env=dict(env), check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def _mode(ray: bool) -> str:
    return f"Ray, 2 nodes × {NODE_CPUS} CPU" if ray else "local (one process)"


def run_cv(args: argparse.Namespace) -> None:
    manifest = manifest_for(args.corpus)
    cache = Path(args.cache).resolve()
    out_root = ROOT / "runs" / "scale-out"
    folds = str(args.folds or PROTOCOLS[args.corpus].folds)
    for ray in [m == "ray" for m in args.modes.split(",")]:
        out = out_root / f"{args.corpus}-cv-{'ray' if ray else 'local'}"
        shutil.rmtree(out, ignore_errors=True)
        command = [str(AUDIOCLF), "cv", "--data", str(manifest), "--folds", folds]
        command += ["--out", str(out), "--no-progress", *(["--ray"] if ray else [])]
        load = os.getloadavg()[0]
        before = _size_mb(cache)
        with two_nodes() if ray else _no_cluster() as env:
            seconds = timed(command, env | {"AUDIOCLF_CACHE": str(cache)})
        grew = _size_mb(cache) - before
        metrics = json.loads((out / "metrics.json").read_text())
        walls = [w for w in metrics["fold_wall_seconds"] if w]
        row = {
            "task": f"{args.corpus} CV, {metrics['n_folds']} folds",
            "mode": _mode(ray),
            "wall s": round(seconds, 1),
            "fold wall s (mean/max)": f"{sum(walls) / len(walls):.0f} / {max(walls):.0f}",
            "WA": round(metrics["accuracy"], 3),
            "UA": round(metrics["balanced_accuracy"], 3),
            "notes": f"kept {metrics.get('selected')}; the cache grew {grew:.0f} MB during "
            f"the run (0: warm); loadavg {load:.2f} before",
        }
        print(row, flush=True)
        record(SECTION, f"cv/{args.corpus}/{'ray' if ray else 'local'}", row, command_line())


def _size_mb(folder: Path) -> float:
    """Megabytes of the files under ``folder``."""
    return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file()) / 2**20


@contextmanager
def _no_cluster() -> Iterator[dict[str, str]]:
    yield dict(os.environ)


@contextmanager
def serving(run: Path, env: Mapping[str, str], extra: list[str]) -> Iterator[str]:
    """``audioclf serve RUN EXTRA`` (rate limit off) until ready; its URL."""
    server_env = dict(env) | {"AUDIOCLF_RATE_LIMIT_PER_MINUTE": "0"}
    with serve([str(run), *extra], server_env) as (url, _):
        yield url


def run_serve(args: argparse.Namespace) -> None:
    run = Path(args.run)
    clip = clip_bytes()
    setups: list[tuple[str, bool, list[str]]] = [
        ("audioclf serve (uvicorn, 1 process)", False, []),
        ("--ray --replicas 1", True, ["--ray", "--replicas", "1"]),
        ("--ray --replicas 2", True, ["--ray", "--replicas", "2"]),
    ]
    for label, ray, extra in setups:
        with two_nodes() if ray else _no_cluster() as env, serving(run, env, extra) as url:
            for clients in (8, 32):
                load = os.getloadavg()[0]
                result = asyncio.run(post_load(url, run.name, clip, clients, args.seconds))
                row = {
                    "task": f"serve {run.name}, 3-s clip, {clients} clients",
                    "mode": label,
                    "p50 ms": round_ms(result["p50"]),
                    "p99 ms": round_ms(result["p99"]),
                    "clips/s": round(result["rate"], 1),
                    "notes": f"{result['requests']} requests, {result['errors']} errors; "
                    f"loadavg {load:.2f} before",
                }
                print(row, flush=True)
                key = f"serve/{run.name}/{label}/{clients}"
                record(SECTION, key, row, command_line())


def run_batch(args: argparse.Namespace) -> None:
    run = Path(args.run)
    manifest = manifest_for(args.corpus)
    clips = sum(1 for line in manifest.read_text().splitlines() if line.strip())
    with tempfile.TemporaryDirectory() as tmp:
        for ray in (False, True):
            out = Path(tmp) / f"{'ray' if ray else 'local'}.jsonl"
            command = [str(AUDIOCLF), "predict", str(run), "--manifest", str(manifest)]
            command += ["--out", str(out), "--no-progress", *(["--ray"] if ray else [])]
            load = os.getloadavg()[0]
            with two_nodes() if ray else _no_cluster() as env:
                seconds = timed(command, env)
            scored = sum(1 for _ in out.open())
            row = {
                "task": f"batch prediction, {args.corpus} ({clips} clips), {run.name}",
                "mode": _mode(ray),
                "wall s": round(seconds, 1),
                "clips/s": round(scored / seconds, 1),
                "notes": f"{scored} scored; loadavg {load:.2f} before",
            }
            print(row, flush=True)
            record(SECTION, f"batch/{args.corpus}/{'ray' if ray else 'local'}", row, command_line())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="what", required=True)
    cv = sub.add_parser("cv", help="K-fold CV of the default model, local and on Ray")
    cv.add_argument("--corpus", default="ravdess", choices=sorted(PROTOCOLS))
    cv.add_argument("--folds", type=int, default=None, help="default: the protocol's")
    cv.add_argument("--cache", required=True, help="a warm AUDIOCLF_CACHE for both runs")
    cv.add_argument("--modes", default="local,ray", help="which runs, in order: local,ray")
    serve = sub.add_parser("serve", help="HTTP throughput, uvicorn and Ray Serve replicas")
    serve.add_argument("--run", required=True)
    serve.add_argument("--seconds", type=float, default=20.0)
    batch = sub.add_parser("batch", help="batch prediction over a corpus, local and on Ray")
    batch.add_argument("--run", required=True)
    batch.add_argument("--corpus", default="fsdd", choices=sorted(PROTOCOLS))
    args = parser.parse_args()
    {"cv": run_cv, "serve": run_serve, "batch": run_batch}[args.what](args)


if __name__ == "__main__":
    main()

"""Training over HTTP, as the "Make a model" page does it: a dataset built clip by clip,
a job trained with the default model, the model answering at once, and what a job costs
the predictions served meanwhile.

    python -m benchmarks.training_service [--corpus fsdd] [--classes 0,1,2] [--per-speaker 5]

Starts ``audioclf serve --training`` on a fresh database and folders, then:

1. uploads ``--per-speaker`` clips of each class from every speaker of the corpus
   (``POST /v1/datasets/{id}/clips``, speaker named), timing the uploads;
2. trains a quick ``logreg`` job, so a model is served, and measures its ``/v1/predict``
   p50 on a 3-s clip with nothing else running;
3. queues the default job (``model: auto``, ``--budget`` minutes) and measures the same
   model's p50 while the job trains; records the time from ``POST /v1/jobs`` to ``done``
   and the job's held-out accuracy (the split holds the test speakers out);
4. measures the new model's p50 right after it is done.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import soundfile as sf

from audioclf.audio import load_audio
from audioclf.recipes.emodb import prepare_emodb
from audioclf.recipes.fsdd import prepare_fsdd
from benchmarks.local_server import free_port
from benchmarks.results import ROOT, command_line, record

DATA = Path(os.environ.get("AUDIOCLF_DATA", ROOT.parent / "shared" / "data"))
AUDIOCLF = Path(sys.executable).with_name("audioclf")
SECTION = "Training over HTTP"
KEY = "bNzhZBsGl4SqbO7i81Q2BKg5sw8NBkIH-benchmark"
RECIPES = {"fsdd": prepare_fsdd, "emodb": prepare_emodb}
PROBE_SECONDS = 3.0
PROBES = 20


@contextmanager
def training_server(work: Path) -> Iterator[str]:
    """``audioclf serve --training`` with its database and folders in ``work``."""
    port = free_port()
    env = os.environ | {
        "AUDIOCLF_API_KEY": KEY,
        "AUDIOCLF_DB_URL": f"sqlite:///{work / 'registry.db'}",
        "AUDIOCLF_DATASETS_DIR": str(work / "datasets"),
        "AUDIOCLF_JOB_RUNS_DIR": str(work / "job-runs"),
        "AUDIOCLF_CACHE": str(work / "cache"),
        "AUDIOCLF_RATE_LIMIT_PER_MINUTE": "0",
    }
    cmd = [str(AUDIOCLF), "serve", "--training", "--port", str(port), "--log-level", "warning"]
    proc = subprocess.Popen(cmd, env=env, cwd=work, stdout=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"`{' '.join(cmd)}` did not start")
            time.sleep(0.3)
        yield url
    finally:
        proc.terminate()
        proc.wait(60)


def pick_clips(corpus: str, classes: list[str], per_speaker: int) -> list[Any]:
    """``per_speaker`` clips of each class from every speaker, in a fixed order."""
    manifest = RECIPES[corpus](DATA / corpus, progress=False).manifest
    chosen = []
    for speaker in manifest.speakers:
        for label in classes:
            clips = [c for c in manifest if c.speaker == speaker and c.label == label]
            chosen += sorted(clips, key=lambda c: c.id)[:per_speaker]
    return chosen


def wav(samples: np.ndarray, rate: int) -> bytes:
    buffer = io.BytesIO()
    sf.write(buffer, samples, rate, format="WAV")
    return buffer.getvalue()


def probe_clip(path: str) -> bytes:
    """A clip looped or cut to :data:`PROBE_SECONDS`."""
    audio = load_audio(path, sample_rate=16_000)
    n = int(PROBE_SECONDS * 16_000)
    samples = np.resize(audio.samples, n)
    return wav(samples, 16_000)


def p50_ms(client: httpx.Client, model: str, body: bytes, n: int = PROBES) -> float:
    times = []
    for _ in range(n):
        start = time.perf_counter()
        client.post(f"/v1/predict?model={model}", content=body).raise_for_status()
        times.append((time.perf_counter() - start) * 1000)
    return round(statistics.median(times), 1)


def wait_done(client: httpx.Client, job: str) -> dict[str, Any]:
    while True:
        info = client.get(f"/v1/jobs/{job}").json()
        if info["state"] in ("done", "failed", "cancelled"):
            if info["state"] != "done":
                raise RuntimeError(f"job {job} {info['state']}: {info['error']}")
            return info
        time.sleep(0.5)


def run(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    classes = args.classes.split(",")
    clips = pick_clips(args.corpus, classes, args.per_speaker)
    with (
        training_server(work) as url,
        httpx.Client(base_url=url, headers={"X-API-Key": KEY}, timeout=600) as client,
    ):
        made = client.post("/v1/datasets", json={"name": args.corpus, "classes": classes})
        dataset = made.raise_for_status().json()["id"]
        started = time.perf_counter()
        for clip in clips:
            client.post(
                f"/v1/datasets/{dataset}/clips",
                params={"label": clip.label, "speaker": clip.speaker},
                content=Path(clip.path).read_bytes(),
            ).raise_for_status()
        upload_s = time.perf_counter() - started
        body = probe_clip(clips[0].path)

        quick = client.post(
            "/v1/jobs", json={"dataset": dataset, "model": "logreg", "name": "quick"}
        )
        wait_done(client, quick.raise_for_status().json()["id"])
        idle_ms = p50_ms(client, "quick", body)

        started = time.perf_counter()
        job = (
            client.post(
                "/v1/jobs",
                json={"dataset": dataset, "model": "auto", "time_budget_minutes": args.budget},
            )
            .raise_for_status()
            .json()
        )
        while client.get(f"/v1/jobs/{job['id']}").json()["state"] != "running":
            time.sleep(0.2)
        busy_ms = p50_ms(client, "quick", body, n=PROBES * 3)
        done = wait_done(client, job["id"])
        job_s = time.perf_counter() - started
        new_ms = p50_ms(client, args.corpus, body)
    metrics = done["metrics"]
    return {
        "corpus": args.corpus,
        "classes": args.classes,
        "clips": len(clips),
        "speakers": len({c.speaker for c in clips}),
        "upload clips/s": round(len(clips) / upload_s, 1),
        "job s (auto)": round(job_s, 1),
        "held-out WA": round(metrics["accuracy"], 3),
        "held-out UA": round(metrics["balanced_accuracy"], 3),
        "split": done["options"]["split"],
        "p50 ms idle": idle_ms,
        "p50 ms while training": busy_ms,
        "p50 ms new model": new_ms,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", choices=sorted(RECIPES), default="fsdd")
    parser.add_argument("--classes", default="0,1,2")
    parser.add_argument("--per-speaker", type=int, default=5)
    parser.add_argument("--budget", type=float, default=2.0, help="auto's minutes")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="audioclf-training-service-") as tmp:
        row = run(args, Path(tmp))
    key = f"{args.corpus} {args.classes} x{args.per_speaker}/speaker, {args.budget:g} min"
    record(SECTION, key, row, command_line())
    print(row, flush=True)


if __name__ == "__main__":
    main()

"""Serving over HTTP: the default model against a wav2vec2-base-sized one (issue 4's table).

    .venv/bin/python -m benchmarks.serving
    .venv/bin/python -m benchmarks.serving --seconds 20 --clients 1 8 32

Two run folders are trained once and reused from benchmarks/.work/serving/: the default
model (``audioclf_default``) on Emo-DB for a few epochs, and ``hf_encoder`` on a
randomly initialised transformers ``Wav2Vec2Config()`` (the base size: 12 layers, hidden
768, ~95M parameters — the same compute as facebook/wav2vec2-base) trained one epoch on
a small Emo-DB subset. Accuracy does not matter here, only the cost of serving.

One ``audioclf serve`` process serves both models (the issue asks for them side by side
behind the same endpoint); an async httpx load generator posts a 3-second Emo-DB clip to
``POST /v1/predict?model=NAME`` from 1, 8 and 32 concurrent clients for a fixed time per
level and records p50/p99 latency and clips/second per model and concurrency. The
server's memory is measured on a second ``audioclf serve`` process that loads only the
default model: RSS after start-up and after a burst of 32 concurrent clients.

The load generator runs on the same two cores as the server, and other work on the
machine may load them too, so each row notes the load average before it ran.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import psutil
import soundfile as sf

from audioclf.audio import load
from audioclf.formats.manifest import read_manifest, write_manifest
from audioclf.train.config import TrainConfig
from audioclf.train.run import train_run
from benchmarks.local_server import serve
from benchmarks.protocols import WORK, manifest_for
from benchmarks.results import command_line, record

SECTION = "Serving"
SERVING = WORK / "serving"
DEFAULT_RUN = SERVING / "audioclf_default"
W2V_ENCODER = SERVING / "wav2vec2-base-random"
W2V_RUN = SERVING / "wav2vec2_base"
DEFAULT_LABEL = "audioclf_default"
W2V_LABEL = "wav2vec2-base (random init)"
CLIP_SECONDS = 3.0


def _trained(run: Path) -> bool:
    return (run / "model.onnx").is_file() and (run / "metrics.json").is_file()


def default_run(epochs: int) -> Path:
    """The default model trained on Emo-DB (speaker split), once."""
    if not _trained(DEFAULT_RUN):
        config = TrainConfig.build(
            data=str(manifest_for("emodb")), model="audioclf_default", epochs=epochs
        )
        train_run(config, DEFAULT_RUN)
    return DEFAULT_RUN


def wav2vec2_encoder() -> Path:
    """A randomly initialised wav2vec2-base-sized encoder saved as a local HF folder."""
    if not (W2V_ENCODER / "config.json").is_file():
        import torch
        from transformers import Wav2Vec2Config, Wav2Vec2FeatureExtractor, Wav2Vec2Model

        torch.manual_seed(0)
        config = Wav2Vec2Config()  # the defaults are wav2vec2-base: 12 layers, hidden 768
        Wav2Vec2Model(config).save_pretrained(W2V_ENCODER)
        Wav2Vec2FeatureExtractor(do_normalize=True).save_pretrained(W2V_ENCODER)
    return W2V_ENCODER


def wav2vec2_run(per_speaker: int) -> Path:
    """``hf_encoder`` on the random encoder, one epoch on a few clips per Emo-DB speaker."""
    if not _trained(W2V_RUN):
        rows = read_manifest(manifest_for("emodb"))
        kept: list[Any] = []
        counts: dict[str, int] = {}
        for row in rows:
            if counts.get(row.speaker or "", 0) < per_speaker:
                counts[row.speaker or ""] = counts.get(row.speaker or "", 0) + 1
                kept.append(row)
        subset = SERVING / "emodb-subset.jsonl"
        write_manifest(kept, subset)
        config = TrainConfig.build(
            data=str(subset),
            model="hf_encoder",
            model_options={"model_path": str(wav2vec2_encoder())},
            clip_seconds=CLIP_SECONDS,
            epochs=1,
            augment="none",
        )
        train_run(config, W2V_RUN)
    return W2V_RUN


def clip_bytes() -> bytes:
    """3 seconds of Emo-DB speech (the copies here are cut to 2 s: two clips joined),
    encoded as 16 kHz WAV."""
    rows = read_manifest(manifest_for("emodb"))
    n = int(CLIP_SECONDS * 16_000)
    first_two = [row for _, row in zip(range(2), rows, strict=False)]
    y = np.concatenate([load(row.path, 16_000) for row in first_two])[:n]
    y = np.pad(y, (0, n - len(y)))
    buffer = io.BytesIO()
    sf.write(buffer, y, 16_000, format="WAV", subtype="PCM_16")
    return buffer.getvalue()


@contextmanager
def server(runs: list[Path]) -> Iterator[tuple[str, psutil.Process]]:
    """``audioclf serve RUN...`` in a subprocess (rate limit off); its URL and process."""
    env = {**os.environ, "AUDIOCLF_RATE_LIMIT_PER_MINUTE": "0"}
    with serve([str(r) for r in runs], env) as running:
        yield running


async def post_load(
    url: str, model: str, clip: bytes, clients: int, seconds: float
) -> dict[str, Any]:
    """``clients`` concurrent loops posting ``clip`` for ``seconds``; latencies of each."""
    latencies: list[float] = []
    errors = 0
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=300) as client:
        headers = {"Content-Type": "application/octet-stream"}
        params = {"model": model}
        # warm-up: one request per client (connections open, batcher thread started)
        await asyncio.gather(
            *(
                client.post("/v1/predict", params=params, content=clip, headers=headers)
                for _ in range(clients)
            )
        )
        deadline = time.perf_counter() + seconds

        async def loop() -> None:
            nonlocal errors
            while time.perf_counter() < deadline:
                start = time.perf_counter()
                try:
                    response = await client.post(
                        "/v1/predict", params=params, content=clip, headers=headers
                    )
                except httpx.TransportError:  # a dropped connection is a failed request
                    errors += 1
                    continue
                if response.status_code != 200:
                    errors += 1
                    continue
                latencies.append(time.perf_counter() - start)

        start = time.perf_counter()
        await asyncio.gather(*(loop() for _ in range(clients)))
        wall = time.perf_counter() - start
    ms = np.asarray(latencies) * 1000
    return {
        "requests": len(latencies),
        "errors": errors,
        "p50": float(np.percentile(ms, 50)) if len(ms) else None,
        "p99": float(np.percentile(ms, 99)) if len(ms) else None,
        "rate": len(latencies) / wall,
    }


def _load_note() -> str:
    one, five, _ = os.getloadavg()
    return f"loadavg {one:.2f}/{five:.2f} before"


def _row(label: str, run: Path, clients: int, result: dict[str, Any], note: str) -> dict[str, Any]:
    return {
        "model": label,
        "clients": clients,
        "params": _params(run),
        "requests": result["requests"],
        "errors": result["errors"],
        "p50 ms": round_ms(result["p50"]),
        "p99 ms": round_ms(result["p99"]),
        "clips/s": round(result["rate"], 2),
        "× wav2vec2": None,
        "RSS MB": None,
        "notes": note,
    }


def measure_latency(args: argparse.Namespace, runs: dict[str, Path], clip: bytes) -> None:
    """p50/p99 and clips/s per model and concurrency, both models in one server; the
    default model's row also holds its throughput over the wav2vec2-sized one's."""
    with server(list(runs.values())) as (url, _):
        for clients in args.clients:
            rows = {}
            for label, run in runs.items():
                note = _load_note()
                seconds = args.seconds * (1 if run == DEFAULT_RUN else 2)
                result = asyncio.run(post_load(url, run.name, clip, clients, seconds))
                rows[label] = _row(label, run, clients, result, note)
                print(rows[label], flush=True)
            default, other = rows[DEFAULT_LABEL], rows[W2V_LABEL]
            if other["clips/s"]:
                default["× wav2vec2"] = f"{default['clips/s'] / other['clips/s']:.0f}×"
            for label, row in rows.items():
                record(SECTION, f"{label}/{clients}", row, command_line())


def measure_memory(args: argparse.Namespace, run: Path, clip: bytes) -> None:
    """RSS of a server with only the default model: after start-up and after 32 clients."""
    note = _load_note()
    with server([run]) as (url, proc):
        idle = proc.memory_info().rss
        result = asyncio.run(post_load(url, run.name, clip, max(args.clients), args.seconds))
        busy = proc.memory_info().rss
    row = _row(f"{DEFAULT_LABEL} (alone)", run, max(args.clients), result, note)
    row["RSS MB"] = f"{idle / 2**20:.0f} idle, {busy / 2**20:.0f} after load"
    record(SECTION, "audioclf_default/memory", row, command_line())
    print(row, flush=True)


def _params(run: Path) -> int:
    """Every parameter of the served model: the run's trainable ones plus a frozen
    encoder's (its safetensors file), which the run's metrics do not count."""
    params = int(json.loads((run / "metrics.json").read_text())["params"])
    if run == W2V_RUN:
        from safetensors import safe_open

        with safe_open(str(W2V_ENCODER / "model.safetensors"), "np") as f:
            params += sum(int(np.prod(f.get_slice(k).get_shape())) for k in f.keys())  # noqa: SIM118
    return params


def round_ms(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 8, 32])
    parser.add_argument(
        "--seconds", type=float, default=10.0, help="Load time per level (×2 for wav2vec2)."
    )
    parser.add_argument("--epochs", type=int, default=3, help="Epochs of the default model.")
    parser.add_argument("--per-speaker", type=int, default=6, help="wav2vec2 training clips.")
    args = parser.parse_args()
    SERVING.mkdir(parents=True, exist_ok=True)
    runs = {
        DEFAULT_LABEL: default_run(args.epochs),
        W2V_LABEL: wav2vec2_run(args.per_speaker),
    }
    clip = clip_bytes()
    measure_memory(args, runs[DEFAULT_LABEL], clip)
    measure_latency(args, runs, clip)


if __name__ == "__main__":
    main()

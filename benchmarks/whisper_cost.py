"""What the Whisper-base encoder costs per clip, and how that grows with clip length.

Median CPU and wall time of `whisper_stats` (log-mel front end, encoder on one torch
thread, pooling) over several calls on a clip of each length cut from a real recording (the
first clips of a protocol's corpus, joined), after one warm-up call; beside it the same
encoder run the way the CTranslate2 runtime runs it (input padded to 30 s, one thread),
for a 30-s window. The load average of the shared machine is in the notes.

    .venv/bin/python -m benchmarks.whisper_cost emodb --seconds 1 3 10 30 60
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from functools import partial
from statistics import median
from time import perf_counter, thread_time
from typing import Any

import numpy as np

from audioclf.features.cache import FeatureCache
from audioclf.features.whisper_encoder import (
    SAMPLE_RATE,
    default_model_dir,
    encode,
    load_encoder,
    model_file,
    whisper_stats,
)
from audioclf.formats.manifest import read_manifest
from benchmarks.protocols import manifest_for
from benchmarks.results import command_line, record

SECTION = "Whisper encoder: extraction time"


def _speech(protocol: str, seconds: float) -> np.ndarray:
    """``seconds`` of a corpus's speech: its first clips joined, cut to length."""
    cache = FeatureCache()
    pieces, total = [], 0
    for clip in read_manifest(manifest_for(protocol)):
        y = cache.load(clip, SAMPLE_RATE)
        pieces.append(y)
        total += len(y)
        if total >= seconds * SAMPLE_RATE:
            break
    return np.concatenate(pieces)[: int(seconds * SAMPLE_RATE)]


def _median_ms(call: Callable[[], object], repeats: int) -> tuple[float, float]:
    """Median wall and CPU milliseconds of ``call()`` over ``repeats`` calls, after one
    warm-up. CPU time is this thread's (the encoder runs on the calling thread, on one
    torch thread), so it is what the clip costs whatever else the machine runs."""
    call()
    wall, cpu = [], []
    for _ in range(repeats):
        start, start_cpu = perf_counter(), thread_time()
        call()
        wall.append((perf_counter() - start) * 1000)
        cpu.append((thread_time() - start_cpu) * 1000)
    return median(wall), median(cpu)


def _row(
    seconds: float, how: str, times: tuple[float, float], repeats: int, load: float
) -> dict[str, Any]:
    return {
        "clip s": seconds,
        "how": how,
        "CPU ms": round(times[1], 1),
        "wall ms": round(times[0], 1),
        "notes": f"median of {repeats}; loadavg {load:.2f}",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("protocol", help="corpus to cut the clips from (benchmarks.protocols)")
    parser.add_argument("--seconds", type=float, nargs="+", default=[1, 3, 10, 30, 60])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    for seconds in args.seconds:
        y = _speech(args.protocol, seconds)
        load = os.getloadavg()[0]
        times = _median_ms(partial(whisper_stats, y, SAMPLE_RATE), args.repeats)
        row = _row(seconds, "whisper_stats (its own length)", times, args.repeats, load)
        record(SECTION, f"{seconds:g}s/ours", row, command_line())
        print(row, flush=True)
    encoder = load_encoder(model_file(default_model_dir()))
    padded = np.zeros((80, 3000), dtype=np.float32)
    load = os.getloadavg()[0]
    times = _median_ms(lambda: encode(encoder, padded), args.repeats)
    how = "encoder alone on 3000 frames (any clip padded to 30 s)"
    row = _row(30, how, times, args.repeats, load)
    record(SECTION, "padded/encoder", row, command_line())
    print(row, flush=True)


if __name__ == "__main__":
    main()

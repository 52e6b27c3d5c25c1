"""What ten minutes of silence cost the server: one small FLAC, peak memory and time.

    .venv/bin/python -m benchmarks.long_silence RUN [RUN ...] [--seconds 590]

For each RUN, ``audioclf serve RUN`` starts on a free port of 127.0.0.1 with the server's
default settings, and one ``POST /v1/predict`` sends ``--seconds`` of digital silence at
16 kHz as FLAC (about 14 KB for 590 s: within the default upload and duration limits).
The figures: the FLAC's size, the request's wall time, the server's resident memory idle
and its peak during the request (the server process and all its children, the decode
processes included, sampled every 20 ms), and what the response says it scored.
"""

from __future__ import annotations

import argparse
import io
import os
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import soundfile as sf

from benchmarks.local_server import peak_rss, process_tree_rss, serve
from benchmarks.results import command_line, record

SECTION = "Long silence"
MIB = 2**20


def silent_flac(seconds: float, rate: int = 16_000) -> bytes:
    """``seconds`` of 16-bit digital silence as FLAC."""
    buffer = io.BytesIO()
    sf.write(buffer, np.zeros(round(seconds * rate), dtype=np.int16), rate, format="FLAC")
    return buffer.getvalue()


def measure(run: Path, data: bytes) -> dict[str, Any]:
    """One request of ``data`` to a fresh server of ``run``: the row of figures."""
    with serve([str(run)], os.environ) as (url, process):
        idle = process_tree_rss(process)
        start = time.perf_counter()
        with peak_rss(process) as peak:
            response = httpx.post(f"{url}/v1/predict", content=data, timeout=600)
        seconds = time.perf_counter() - start
    body = response.json()
    return {
        "model": run.name,
        "flac KB": round(len(data) / 1000, 1),
        "status": response.status_code,
        "audio s": body.get("duration_seconds"),
        "scored s": body.get("scored_seconds"),
        "wall s": round(seconds, 2),
        "idle RSS MiB": round(idle / MIB),
        "peak RSS MiB": round(peak[0] / MIB),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", type=Path, help="trained run folders")
    parser.add_argument("--seconds", type=float, default=590.0, help="length of the silence")
    parser.add_argument("--no-record", action="store_true", help="print only")
    args = parser.parse_args()
    data = silent_flac(args.seconds)
    for run in args.runs:
        row = measure(run.resolve(), data)
        print(row)
        if not args.no_record:
            record(SECTION, f"{run.name}/{args.seconds:g}s", row, command_line())
    print(f"command: {command_line()}")


if __name__ == "__main__":
    main()

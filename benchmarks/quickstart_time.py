"""Time to a served model: ``audioclf quickstart`` from nothing (no corpus, no run) until
it prints "serving at", as ``make demo`` runs it when ``.venv`` already exists.

    python -m benchmarks.quickstart_time [--repeat 1]

Each repeat uses fresh temporary ``--data-dir`` and ``--out`` folders (so nothing is
reused), a free port, and stops the server once it answers ``/readyz``. Records the wall
time and the held-out-voice accuracy the quickstart printed.
"""

from __future__ import annotations

import argparse
import json
import re
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from benchmarks.results import command_line, record

AUDIOCLF = Path(sys.executable).with_name("audioclf")
SECTION = "Quickstart: time to a served model"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _ready(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=5).status_code == 200
    except httpx.TransportError:
        return False


def time_quickstart(work: Path) -> dict[str, float | None]:
    """Seconds from launch to "serving at" and to a ready server, and the test accuracy."""
    port = _free_port()
    cmd = [str(AUDIOCLF), "quickstart", "--out", str(work / "run"), "--data-dir"]
    cmd += [str(work / "data"), "--port", str(port), "--no-progress"]
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert proc.stdout is not None
    lines: list[str] = []
    try:
        for line in proc.stdout:
            lines.append(line)
            if "serving at" in line:
                serving = time.perf_counter() - started
                break
        else:
            raise RuntimeError("quickstart exited before serving:\n" + "".join(lines[-20:]))
        while not _ready(port):
            if time.perf_counter() - started > 600:
                raise RuntimeError("the server did not become ready")
            time.sleep(0.1)
        ready = time.perf_counter() - started
    finally:
        proc.terminate()
        proc.wait(30)
    metrics = json.loads((work / "run" / "metrics.json").read_text())
    printed = re.search(r"accuracy (\d\.\d+)", "".join(lines))
    return {
        "to 'serving at' s": round(serving, 1),
        "to ready s": round(ready, 1),
        "held-out synthetic accuracy": metrics.get("accuracy"),
        "printed accuracy": float(printed.group(1)) if printed else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    for i in range(args.repeat):
        with tempfile.TemporaryDirectory(prefix="audioclf-quickstart-") as tmp:
            row = {"repeat": i + 1, **time_quickstart(Path(tmp))}
        record(SECTION, f"repeat {i + 1}", row, command_line())
        print(row, flush=True)


if __name__ == "__main__":
    main()

"""Time to a served model: ``audioclf quickstart`` from nothing (no corpus, no run) until
it prints "serving at".

    python -m benchmarks.quickstart_time [--repeat 1]         # .venv exists
    python -m benchmarks.quickstart_time --fresh-clone        # git clone + make demo

Without ``--fresh-clone`` each repeat runs this checkout's ``audioclf quickstart`` with
fresh temporary ``--data-dir`` and ``--out`` folders (``make demo`` once ``.venv`` exists).
With it, the committed HEAD is cloned into a temporary folder and ``make demo`` runs there,
so the time includes creating ``.venv`` and installing every dependency (from the package
registries or pip's cache). The server is stopped once it answers ``/readyz``. Records the
wall time and the held-out-voice accuracy of the trained model.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.local_server import free_port, is_ready
from benchmarks.results import ROOT, command_line, record

AUDIOCLF = Path(sys.executable).with_name("audioclf")
SECTION = "Quickstart: time to a served model"


def time_to_serving(cmd: list[str], cwd: Path, run_dir: Path, port: int) -> dict[str, float]:
    """Seconds from launching ``cmd`` to "serving at" and to a ready server on ``port``,
    and the test accuracy in ``run_dir``; the whole process group is stopped afterwards."""
    started = time.perf_counter()
    proc = subprocess.Popen(
        cmd,
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    assert proc.stdout is not None
    lines: list[str] = []
    try:
        for line in proc.stdout:
            lines.append(line)
            if "serving at" in line:
                serving = time.perf_counter() - started
                break
        else:
            raise RuntimeError(f"{cmd} exited before serving:\n" + "".join(lines[-20:]))
        while not is_ready(f"http://127.0.0.1:{port}"):
            if time.perf_counter() - started > 900:
                raise RuntimeError("the server did not become ready")
            time.sleep(0.1)
        ready = time.perf_counter() - started
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(30)
    metrics = json.loads((run_dir / "metrics.json").read_text())
    return {
        "to 'serving at' s": round(serving, 1),
        "to ready s": round(ready, 1),
        "held-out synthetic accuracy": metrics["accuracy"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--fresh-clone", action="store_true")
    args = parser.parse_args()
    for i in range(args.repeat):
        port = free_port()
        options = ["--port", str(port), "--no-progress"]
        with tempfile.TemporaryDirectory(prefix="audioclf-quickstart-") as tmp:
            work = Path(tmp)
            if args.fresh_clone:
                subprocess.run(["git", "clone", "-q", str(ROOT), str(work / "repo")], check=True)
                cmd = ["make", "demo", f"DEMO_ARGS={' '.join(options)}"]
                result = time_to_serving(
                    cmd, work / "repo", work / "repo" / "runs" / "quickstart", port
                )
            else:
                cmd = [str(AUDIOCLF), "quickstart", "--out", str(work / "run")]
                cmd += ["--data-dir", str(work / "data"), *options]
                result = time_to_serving(cmd, ROOT, work / "run", port)
        setup = "fresh clone, make demo" if args.fresh_clone else ".venv exists"
        row = {"setup": setup, "repeat": i + 1, **result}
        record(SECTION, f"{setup}/{i + 1}", row, command_line())
        print(row, flush=True)


if __name__ == "__main__":
    main()

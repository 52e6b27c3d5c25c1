"""One training run of the default model, with an empty feature cache and then warm.

The warm run reuses the cache the cold run filled.

`audioclf train --data MANIFEST --split speaker --out DIR` (no `--model`: auto), run as a
subprocess so the wall time includes starting Python and loading the models. The cold run
gets a new, empty ``AUDIOCLF_CACHE``; the warm run reuses it with a new run folder. The
temporary cache is deleted afterwards.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.protocols import PROTOCOLS, manifest_for
from benchmarks.results import ROOT, command_line, record

SECTION = "One training run: cold and warm feature cache"


def train_once(manifest: Path, out: Path, cache: Path) -> tuple[float, dict[str, Any]]:
    """Wall seconds of one ``audioclf train`` and the run's metrics.json."""
    audioclf = Path(sys.executable).with_name("audioclf")
    command = [str(audioclf), "train", "--data", str(manifest), "--split", "speaker"]
    command += ["--out", str(out), "--no-progress"]
    env = os.environ | {"AUDIOCLF_CACHE": str(cache)}
    started = time.perf_counter()
    subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL)
    seconds = time.perf_counter() - started
    return seconds, json.loads((out / "metrics.json").read_text())


def run(name: str, out_root: Path) -> None:
    manifest = manifest_for(name)
    cache = Path(tempfile.mkdtemp(prefix="audioclf-cold-cache-"))
    try:
        for state in ("cold", "warm"):
            out = out_root / f"{name}-{state}"
            shutil.rmtree(out, ignore_errors=True)
            load_before = os.getloadavg()[0]
            seconds, metrics = train_once(manifest, out, cache)
            kept = metrics.get("selection", {}).get("chosen", metrics.get("model"))
            row = {
                "corpus": PROTOCOLS[name].description.split(",")[0],
                "cache": state,
                "test clips": metrics["n"],
                "WA": round(metrics["accuracy"], 3),
                "UA": round(metrics["balanced_accuracy"], 3),
                "train s": round(metrics["train_seconds"], 1),
                "wall s": round(seconds, 1),
                "notes": f"kept {kept}; loadavg {load_before:.2f} before, "
                f"{os.getloadavg()[0]:.2f} after",
            }
            record(SECTION, f"{name}/{state}", row, command_line())
            print(row, flush=True)
    finally:
        shutil.rmtree(cache, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("protocols", nargs="+", choices=sorted(PROTOCOLS))
    parser.add_argument("--out", default=str(ROOT / "runs" / "bench-cache"))
    args = parser.parse_args()
    for name in args.protocols:
        run(name, Path(args.out))


if __name__ == "__main__":
    main()

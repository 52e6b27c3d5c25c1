"""Synthetic to real: the quickstart model (trained only on eSpeak NG voices) scored on the
real human recordings of the Free Spoken Digit Dataset.

    python -m benchmarks.synth_to_real [--run runs/quickstart]

Trains the quickstart run first if ``--run`` holds none (``audioclf quickstart
--no-serve``), then ``evaluate_run`` on FSDD (recipe ``fsdd``, all 3000 clips, labels
0-9 as in the synthetic corpus). Records the held-out synthetic accuracy, the FSDD
accuracy and the training time.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from benchmarks.protocols import DATA, WORK
from benchmarks.results import command_line, record


def main() -> None:
    from audioclf.evaluate.evaluate_run import evaluate_run
    from audioclf.formats.manifest import write_manifest
    from audioclf.quickstart import DEFAULT_DATA, DEFAULT_OUT, run_quickstart
    from audioclf.recipes import prepare

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--fsdd", type=Path, default=DATA / "fsdd")
    args = parser.parse_args()

    started = time.perf_counter()
    result = run_quickstart(args.run, data_dir=args.data_dir)
    quickstart_seconds = time.perf_counter() - started
    manifest = WORK / "fsdd.jsonl"
    write_manifest(prepare("fsdd", args.fsdd, progress=True).manifest, manifest)
    real = evaluate_run(args.run, manifest, WORK / "synth_to_real")
    row = {
        "synthetic clips": len(result.corpus.manifest),
        "reused run": result.reused_run,
        "synthetic voices": len(result.corpus.manifest.speakers),
        "held-out synthetic accuracy": result.metrics.get("accuracy"),
        "FSDD accuracy": real.get("accuracy"),
        "FSDD balanced accuracy": real.get("balanced_accuracy"),
        "FSDD macro-F1": real.get("macro_f1"),
        "train s": result.metrics.get("train_seconds"),
        "quickstart s": None if result.reused_run else round(quickstart_seconds, 1),
    }
    record("Synthetic digits to real voices (FSDD)", "quickstart", row, command_line())
    print(row)


if __name__ == "__main__":
    main()

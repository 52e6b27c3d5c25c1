"""How a trained run holds up where users record: its test clips clean and under noise,
reverberation, a phone line and a low-bitrate codec.

    .venv/bin/python -m benchmarks.robustness RUN [RUN ...] [--perturb SPEC ...] [--seed 0]

For each RUN the clips of ``RUN/splits/test.jsonl`` (the speakers the run never saw) are
scored by ``audioclf evaluate --perturb`` (:mod:`audioclf.evaluate.evaluate_run`), clean
and under each SPEC; one row per RUN and SPEC records WA, UA and the change in WA
against clean.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from audioclf.evaluate.evaluate_run import evaluate_run
from benchmarks.results import command_line, record

SECTION = "Robustness"
DEFAULT_SPECS = (
    "noise=pink,snr=20",
    "noise=pink,snr=10",
    "noise=pink,snr=5",
    "noise=pink,snr=0",
    "noise=babble,snr=20",
    "noise=babble,snr=10",
    "noise=babble,snr=5",
    "noise=babble,snr=0",
    "reverb=0.6",
    "telephone",
    "opus=12k",
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", type=Path, help="trained run folders (with splits/)")
    parser.add_argument("--perturb", action="append", help="SPEC (repeatable); default: a set")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-record", action="store_true", help="print only")
    args = parser.parse_args()
    specs = args.perturb or list(DEFAULT_SPECS)
    for run in args.runs:
        test = run / "splits" / "test.jsonl"
        with tempfile.TemporaryDirectory() as out:
            metrics = evaluate_run(run, test, out, perturb=specs, seed=args.seed, progress=False)
        name = f"{run.name} ({metrics['model']})"
        rows = [
            {
                "spec": "clean",
                "accuracy": metrics["accuracy"],
                "balanced_accuracy": metrics["balanced_accuracy"],
                "accuracy_change": 0.0,
            }
        ]
        rows += metrics["perturbations"]
        for row in rows:
            line = {
                "run": name,
                "test clips": metrics["n_scored"],
                "perturbation": row["spec"],
                "WA": row["accuracy"],
                "UA": row["balanced_accuracy"],
                "ΔWA": row["accuracy_change"],
            }
            print(line)
            if not args.no_record:
                record(SECTION, f"{name}/{row['spec']}/{args.seed}", line, command_line())
    print(f"command: {command_line()}")


if __name__ == "__main__":
    main()

"""The prototypes' comparison, reproduced: raw-waveform M3/M5/M11/M18 against 2-D CNNs
with 1, 2 and 4 blocks (and anything else in the zoo) on one corpus, one
speaker-independent split, same budget for every model.

    .venv/bin/python -m benchmarks.zoo speechcommands --epochs 20
    .venv/bin/python -m benchmarks.zoo fsdd --models m5 cnn2d_2 audioclf_default

Records parameters, training time and test accuracy per model in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from audioclf.train.config import TrainConfig
from audioclf.train.run import train_run
from benchmarks.protocols import PROTOCOLS, manifest_for
from benchmarks.results import ROOT, command_line, record

PROTOTYPE_MODELS = ["m3", "m5", "m11", "m18", "cnn2d_1", "cnn2d_2", "cnn2d_4"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("protocol", choices=sorted(PROTOCOLS))
    parser.add_argument("--models", nargs="+", default=PROTOTYPE_MODELS)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--clip-seconds", type=float, default=None)
    parser.add_argument("--out", default=str(ROOT / "runs" / "zoo"))
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args()
    data = manifest_for(args.protocol)
    for model in args.models:
        config = TrainConfig.build(
            data=str(data),
            model=model,
            epochs=args.epochs,
            clip_seconds=args.clip_seconds,
            split="speaker",
            val=0.1,
            test=0.2,
            seed=0,
        )
        out = Path(args.out) / f"{args.protocol}-{model}"
        result = train_run(config, out, progress=not args.quiet)
        m = result.metrics
        row = {
            "corpus": PROTOCOLS[args.protocol].description.split(",")[0],
            "model": model,
            "params": m["params"],
            "epochs": f"{m['best_epoch']}/{m['epochs_run']}",
            "train s": round(m["train_seconds"], 1),
            "latency ms": round(m["latency_ms"], 1),
            "WA": round(m["accuracy"], 3),
            "UA": round(m["balanced_accuracy"], 3),
            "macro-F1": round(m["macro_f1"], 3),
        }
        record(
            "Model zoo on one speaker-independent split (the prototypes' comparison)",
            f"{args.protocol}/{model}/{args.epochs}",
            row,
            command_line(),
        )
        print(row)


if __name__ == "__main__":
    main()

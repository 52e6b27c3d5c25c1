"""Speaker counting on LibriSpeech mixtures: every architecture, unseen test speakers.

Builds 16 kHz mixtures (1 s, or ``--seconds``) from ../shared/data/librispeech (261
speakers split into disjoint train/val/test pools before mixing), trains each model with
the pools as the split (``--split fold`` on the mixture manifest) and records accuracy,
count MAE, parameters and training time:

    .venv/bin/python -m benchmarks.counting --n 6000 --epochs 4
    .venv/bin/python -m benchmarks.counting --speakers 0-5 --n 6000 --epochs 4 --models countnet
    .venv/bin/python -m benchmarks.counting --n 12000 --seconds 2 --models voice_count

Classical models (``voice_count``) ignore ``--epochs``; their ``train s`` includes computing
the feature vectors (a cold feature cache computes every clip's).

``--speakers`` starting at 0 needs background recordings; by default the Speech Commands
``_silence_`` clips (background noise) in the same data folder are used.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from audioclf.data.mix import MixConfig, make_mixtures, parse_range
from audioclf.formats.manifest import write_manifest
from audioclf.recipes import prepare
from audioclf.train.config import TrainConfig
from audioclf.train.run import train_run
from benchmarks.protocols import DATA, WORK
from benchmarks.results import ROOT, command_line, record

MODELS = ["m3", "m5", "m11", "m18", "cnn2d_1", "cnn2d_2", "cnn2d_4", "audioclf_default", "countnet"]


def section(seconds: float) -> str:
    """The benchmark table of mixtures ``seconds`` long."""
    return f"Speaker counting (LibriSpeech mixtures, {seconds:g} s, unseen test speakers)"


def mixture_tag(speakers: tuple[int, int], n: int, mode: str, seconds: float) -> str:
    """The folder and row-key name of a mixture set (1-s sets keep their original name)."""
    tag = f"{speakers[0]}-{speakers[1]}-n{n}-{mode}"
    return tag if seconds == 1.0 else f"{tag}-s{seconds:g}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--speakers", default="1-3", help="Counts MIN-MAX.")
    parser.add_argument("--n", type=int, default=6000, help="Clips in all pools.")
    parser.add_argument("--seconds", type=float, default=1.0, help="Length of a mixture.")
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--models", nargs="+", default=MODELS)
    parser.add_argument("--mode", default="average", choices=["average", "levels"])
    parser.add_argument("--noise-dir", default=str(DATA / "speechcommands" / "_silence_"))
    parser.add_argument("--out", default=str(ROOT / "runs" / "counting"))
    parser.add_argument(
        "--augment",
        default="light",
        help="Augmentation preset. The mixtures are already random draws; 'default' adds "
        "pitch shift and time stretch, which tripled the step time here.",
    )
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args()
    speakers = parse_range(args.speakers)
    out = Path(args.out)
    work = WORK / "counting"
    source = work / "librispeech.jsonl"
    if not source.is_file():
        prepared = prepare("librispeech", DATA / "librispeech", progress=not args.quiet)
        write_manifest(prepared.manifest, source)
    tag = mixture_tag(speakers, args.n, args.mode, args.seconds)
    mix = make_mixtures(
        source,
        work / f"mix-{tag}",
        MixConfig(
            speakers=speakers,
            n=args.n,
            seconds=args.seconds,
            mode=args.mode,
            noise_dir=args.noise_dir if speakers[0] == 0 else None,
        ),
        progress=not args.quiet,
    )
    for model in args.models:
        config = TrainConfig.build(
            data=str(mix.manifests["all"]),
            model=model,
            epochs=args.epochs,
            patience=args.epochs,
            lr=args.lr,
            augment=args.augment,
            clip_seconds=args.seconds,
            split="fold",
            seed=0,
            threads=2,
        )
        result = train_run(config, out / f"{tag}-{model}-e{args.epochs}", progress=not args.quiet)
        m = result.metrics
        recall = {label: v["recall"] for label, v in m["per_class"].items()}
        row = {
            "speakers": args.speakers,
            "clips (train/val/test)": f"{m['n_train']}/{m['n_val']}/{m['n_test']}",
            "model": model,
            "params": m["params"],
            "epochs": f"{m['best_epoch']}/{m['epochs_run']}",
            "train s": round(m["train_seconds"], 1),
            "accuracy": round(m["accuracy"], 3),
            "count MAE": round(m["count_mae"], 3),
            "recall per count": " ".join(f"{k}:{v:.2f}" for k, v in recall.items()),
        }
        record(section(args.seconds), f"{tag}/{model}/{args.epochs}", row, command_line())
        print(row, flush=True)


if __name__ == "__main__":
    main()

"""``audioclf data mix``: speaker-count clips from a manifest of single-speaker utterances."""

from __future__ import annotations

from pathlib import Path
from typing import cast

import typer
from rich.table import Table

from audioclf.cli.common import friendly_errors
from audioclf.console import console, out


@friendly_errors
def mix_cmd(
    manifest: Path = typer.Argument(..., help="Single-speaker utterances (.jsonl, with speakers)."),
    out_dir: Path = typer.Option(..., "--out", "-o", help="Folder for clips and manifests."),
    speakers: str = typer.Option("1-3", "--speakers", help="Speaker counts MIN-MAX (0 = none)."),
    seconds: float = typer.Option(1.0, "--seconds", help="Clip length in seconds (16 kHz)."),
    n: int = typer.Option(20_000, "--n", help="Number of clips in all pools."),
    split_speakers: str = typer.Option(
        "0.8,0.1,0.1", "--split-speakers", help="Speaker fractions train,val,test (disjoint)."
    ),
    mode: str = typer.Option("average", "--mode", help="average | levels (random dB levels)."),
    level_db: str = typer.Option(
        "0,-12", "--level-db", help="With --mode levels: range of speaker levels in dB."
    ),
    noise_dir: Path | None = typer.Option(
        None, "--noise-dir", help="Background noise recordings (needed for 0 speakers)."
    ),
    snr: str = typer.Option("10,30", "--snr", help="Speech-to-noise ratio range in dB."),
    vad: str = typer.Option("silero", "--vad", help="silero | energy: how voiced parts are found."),
    labels: str = typer.Option("digits", "--labels", help='digits ("2") | words ("2 speakers").'),
    seed: int = typer.Option(0, "--seed", help="Random seed (same seed, same clips)."),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Show progress bars."),
) -> None:
    """Mix clips of k simultaneous speakers with disjoint train/val/test speaker pools."""
    # deferred: mixing loads numpy and soundfile; `audioclf --help` must not
    from audioclf.data.mix import (
        LabelStyle,
        MixConfig,
        MixError,
        MixMode,
        make_mixtures,
        parse_floats,
        parse_range,
    )
    from audioclf.features.vad import VadMethod

    if vad not in ("silero", "energy"):
        raise MixError(f"--vad must be silero or energy, not {vad!r}")
    if labels not in ("digits", "words"):
        raise MixError(f"--labels must be digits or words, not {labels!r}")
    fractions = parse_floats(split_speakers, "--split-speakers", 3)
    levels = sorted(parse_floats(level_db, "--level-db", 2))
    snrs = sorted(parse_floats(snr, "--snr", 2))
    config = MixConfig(
        speakers=parse_range(speakers),
        seconds=seconds,
        n=n,
        split_speakers=(fractions[0], fractions[1], fractions[2]),
        mode=cast("MixMode", mode),
        level_db=(levels[0], levels[1]),
        snr_db=(snrs[0], snrs[1]),
        noise_dir=str(noise_dir) if noise_dir else None,
        vad=cast("VadMethod", vad),
        labels=cast("LabelStyle", labels),
        seed=seed,
    )
    result = make_mixtures(manifest, out_dir, config, progress=progress)
    for item in result.skipped:
        console.print(f"[yellow]skipped[/] {item.path}: {item.reason}", highlight=False)
    table = Table("pool", "speakers", *next(iter(result.counts.values())).keys(), title="clips")
    for name, tally in result.counts.items():
        table.add_row(name, str(len(result.pools[name])), *(str(v) for v in tally.values()))
    out.print(table)
    written = ", ".join(str(p) for p in result.manifests.values())
    console.print(f"[green]wrote[/] {written}", highlight=False)

"""``audioclf data synth digits``: a synthetic spoken-digit corpus."""

from __future__ import annotations

import time
from pathlib import Path

import typer

from audioclf.cli.common import friendly_errors
from audioclf.cli.data.summary import summary_table
from audioclf.console import out

synth_app = typer.Typer(help="Make synthetic corpora (no download needed).", no_args_is_help=True)


@friendly_errors
def synth_digits_cmd(
    out_dir: Path = typer.Option(..., "--out", "-o", help="Folder to write clips + manifest."),
    n_voices: int = typer.Option(80, "--n-voices", help="Synthetic speakers (accent+variant)."),
    per_digit: int = typer.Option(1, "--per-digit", help="Takes of each digit per voice."),
    seed: int = typer.Option(0, "--seed", help="Same seed, same bytes."),
    sample_rate: int = typer.Option(16_000, "--sample-rate", help="Output sample rate (Hz)."),
    clip_seconds: float = typer.Option(1.0, "--clip-seconds", help="Minimum clip length (s)."),
    augment: bool = typer.Option(True, help="Light noise, reverb and gain on every clip."),
    progress: bool = typer.Option(True, help="Show a progress bar."),
) -> None:
    """Spoken digits 0-9 by many eSpeak NG voices → DIR/manifest.jsonl (speaker = voice)."""
    # deferred: audioclf.data.synth loads torch, scipy and librosa; `audioclf --help` must not
    from audioclf.data.synth import SynthConfig, synth_digits

    config = SynthConfig(n_voices, per_digit, seed, sample_rate, clip_seconds, augment)
    started = time.perf_counter()
    result = synth_digits(out_dir, config, progress=progress)
    out.print(summary_table(result.manifest, f"synthetic digits ({result.engine})"))
    verb = "reused" if result.reused else f"made in {time.perf_counter() - started:.1f} s"
    out.print(f"{result.manifest_path}: {len(result.manifest)} clips, {verb}", highlight=False)


synth_app.command("digits")(synth_digits_cmd)

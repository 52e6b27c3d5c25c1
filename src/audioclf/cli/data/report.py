"""``audioclf data report``: plots, statistics and bad files of a manifest, as an HTML page."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from audioclf.cli.common import friendly_errors
from audioclf.console import console, out


@friendly_errors
def report_cmd(
    manifest: Path = typer.Argument(..., help="The manifest to describe (.jsonl)."),
    out_dir: Path = typer.Option(..., "--out", "-o", help="Folder for report.html, PNGs, stats."),
    top_db: float = typer.Option(
        30.0, "--top-db", help="Trim audio this many dB under the peak when measuring sound."
    ),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Show a progress bar."),
) -> None:
    """Measure every clip and write an HTML report with plots, warnings and unreadable files."""
    # deferred: the report loads matplotlib and librosa; `audioclf --help` must not
    from audioclf.data.report import write_report

    if top_db <= 0:
        raise ValueError(f"--top-db must be positive, got {top_db:g}")
    result = write_report(manifest, out_dir, progress=progress, top_db=top_db)
    totals = json.loads(result.stats.read_text(encoding="utf-8"))["totals"]
    out.print(
        f"{totals['clips']} clips, {totals['classes']} classes, {totals['speakers']} speakers, "
        f"{totals['hours']:.2f} h ({totals['hours_after_trimming']:.2f} h without silence), "
        f"{result.unreadable} unreadable",
        highlight=False,
    )
    for warning in result.warnings:
        console.print(f"[yellow]warning[/] {warning}", highlight=False)
    console.print(f"[green]wrote[/] {result.html} ({result.seconds:.1f} s)", highlight=False)

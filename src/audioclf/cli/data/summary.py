"""The manifest summary that ``data prepare`` and ``data synth digits`` print."""

from __future__ import annotations

from rich.table import Table

from audioclf.formats.manifest import Manifest


def summary_table(manifest: Manifest, title: str) -> Table:
    """Rows, classes, speakers and total duration of a manifest, plus clips per class."""
    table = Table(title=title, show_header=True, header_style="bold")
    table.add_column("class")
    table.add_column("clips", justify="right")
    table.add_column("speakers", justify="right")
    table.add_column("minutes", justify="right")
    for label in manifest.labels:
        part = manifest.filter(lambda c, label=label: c.label == label)
        table.add_row(
            label, str(len(part)), str(len(part.speakers)), f"{part.total_duration / 60:.1f}"
        )
    table.add_section()
    table.add_row(
        f"[bold]{len(manifest.labels)} classes",
        f"[bold]{len(manifest)}",
        f"[bold]{len(manifest.speakers)}",
        f"[bold]{manifest.total_duration / 60:.1f}",
    )
    return table

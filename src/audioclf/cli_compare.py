"""``audioclf compare RUN…``: a leaderboard of run folders, optionally as Markdown."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from audioclf.cli_common import friendly_errors
from audioclf.console import console, out
from audioclf.evaluate.compare import SORT_KEYS

if TYPE_CHECKING:
    from audioclf.evaluate.compare import RunSummary


@friendly_errors
def compare_cmd(
    runs: list[Path] = typer.Argument(..., help="Run folders (runs/NAME, runs/NAME-cv, …)."),
    markdown: bool = typer.Option(
        False, "--markdown", help="Also print a GitHub Markdown table (to stdout)."
    ),
    sort: str = typer.Option(
        "balanced_accuracy", "--sort", help=f"Sort by one of: {', '.join(SORT_KEYS)}."
    ),
) -> None:
    """Compare finished runs side by side, best first (cross-validation as mean ± std)."""
    from audioclf.evaluate.compare import (
        RunSummaryError,
        leaderboard,
        load_run_summary,
        to_markdown,
    )

    if sort not in SORT_KEYS:
        raise ValueError(f"cannot sort by {sort!r}; choose one of {', '.join(SORT_KEYS)}")
    summaries: list[RunSummary] = []
    for run in runs:
        try:
            summaries.append(load_run_summary(run))
        except RunSummaryError as exc:
            console.print(f"[yellow]skipped[/] {exc}", highlight=False)
    if not summaries:
        raise ValueError(
            "none of the given folders has a metrics.json; pass finished run folders (e.g. runs/*)"
        )
    out.print(leaderboard(summaries, sort_by=sort))
    if markdown:
        out.print(to_markdown(summaries, sort_by=sort), markup=False, highlight=False, end="")

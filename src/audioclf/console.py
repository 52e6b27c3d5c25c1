"""The terminal: one Rich console (on stderr, so stdout stays clean for data) and progress bars."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sized
from typing import TypeVar

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from audioclf import progress

T = TypeVar("T")

console = Console(stderr=True)
"""Progress, warnings and errors."""
out = Console()
"""Results a user may want to keep or pipe (tables, summaries)."""


def progress_bar(*extra: TextColumn, transient: bool = False, enabled: bool = True) -> Progress:
    """A progress bar in the project's style; extra columns go before the timers (shown
    only when ``enabled`` and stderr is a terminal)."""
    return Progress(
        SpinnerColumn(),
        TextColumn("[bold blue]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        *extra,
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=transient,
        disable=not (enabled and console.is_terminal),
    )


def track(
    items: Iterable[T], description: str, total: int | None = None, *, enabled: bool = True
) -> Iterator[T]:
    """Iterate with a progress bar (silent when ``enabled`` is false or stderr is not a TTY)."""
    if total is None and isinstance(items, Sized):
        total = len(items)
    if not enabled:
        for done, item in enumerate(items, 1):
            yield item
            if total:
                progress.step(done, total, description)
        return
    with progress_bar(transient=True) as bar:
        task = bar.add_task(description, total=total)
        for done, item in enumerate(items, 1):
            yield item
            bar.advance(task)
            if total:
                progress.step(done, total, description)

"""What every command shares: the --debug flag and friendly error reporting."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

import typer

from audioclf.console import console

P = ParamSpec("P")
R = TypeVar("R")

state: dict[str, Any] = {"debug": False}


def friendly_errors(fn: Callable[P, R]) -> Callable[P, R]:
    """Turn the project's user-facing errors into a one-line message and exit code 2."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except (ValueError, KeyError, FileNotFoundError, FileExistsError) as exc:
            if state["debug"]:
                raise
            message = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
            console.print(f"[bold red]error:[/] {message}", highlight=False)
            raise typer.Exit(2) from None

    return wrapper

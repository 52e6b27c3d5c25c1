"""What an ``auto`` run folder says it served and which model it judged most accurate."""

from __future__ import annotations

from typing import Any


def served_and_accurate(metrics: dict[str, Any]) -> tuple[str | None, str | None]:
    """``(served, accurate)`` from a run's metrics.json: the model the serving rule chose
    (the run's own model when it is not an auto run) and the one auto judged most
    accurate (what ``--serve best`` serves; None when the run has no selection)."""
    selection = metrics.get("selection") or {}
    served = selection.get("chosen") or metrics.get("model")
    accurate = (selection.get("rule") or {}).get("accurate") or selection.get("chosen")
    return served, accurate

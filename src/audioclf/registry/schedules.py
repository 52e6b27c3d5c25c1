"""Scheduled retraining: ``audioclf registry retrain NAME --data M --every 7d`` writes a
schedule; every server that runs jobs queues a retrain job when one is due.

Claiming a due schedule moves its ``next_run`` forward in a conditional UPDATE (only if
it still holds the value read), so of several servers exactly one queues each run. A
run missed while no server was up is queued once, not once per missed period.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import CursorResult, delete, select, update
from sqlalchemy.orm import Session, sessionmaker

from audioclf.registry.db import RegistryError
from audioclf.registry.tables import ScheduleRow, aware, utcnow

UNITS = {"m": 60, "h": 3600, "d": 86_400, "w": 604_800}
EVERY = re.compile(r"(\d+(?:\.\d+)?)\s*([mhdw])")
MIN_EVERY_SECONDS = 60


@dataclass(frozen=True)
class Schedule:
    """A model retrained every ``every_seconds`` on ``data`` (plus the feedback pool)."""

    name: str
    data: str
    every_seconds: int
    margin: float
    next_run: datetime


def parse_every(text: str) -> int:
    """Seconds in ``30m``, ``12h``, ``7d`` or ``2w`` (at least a minute)."""
    match = EVERY.fullmatch(text.strip().lower())
    if not match:
        raise RegistryError(f"--every {text!r}: use a number and m, h, d or w, like 7d or 12h")
    seconds = int(float(match.group(1)) * UNITS[match.group(2)])
    if seconds < MIN_EVERY_SECONDS:
        raise RegistryError(f"--every {text!r}: retraining at most once a minute")
    return seconds


def format_every(seconds: int) -> str:
    """``604800`` → ``1w``: the largest unit of :data:`UNITS` that divides it."""
    for unit, size in sorted(UNITS.items(), key=lambda item: -item[1]):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def _schedule(row: ScheduleRow) -> Schedule:
    next_run = cast(datetime, aware(row.next_run))
    return Schedule(row.name, row.data, row.every_seconds, row.margin, next_run)


def set_schedule(
    sessions: sessionmaker[Session], name: str, data: str, every_seconds: int, margin: float
) -> Schedule:
    """Retrain ``name`` every ``every_seconds``, the first run one period from now."""
    next_run = utcnow() + timedelta(seconds=every_seconds)
    with sessions.begin() as session:
        row = session.get(ScheduleRow, name)
        if row is None:
            row = ScheduleRow(name=name, created=utcnow())
            session.add(row)
        row.data, row.every_seconds, row.margin, row.next_run = (
            data,
            every_seconds,
            margin,
            next_run,
        )
        session.flush()
        return _schedule(row)


def remove_schedule(sessions: sessionmaker[Session], name: str) -> bool:
    """Stop retraining ``name`` on a schedule; False when it had none."""
    with sessions.begin() as session:
        result = session.execute(delete(ScheduleRow).where(ScheduleRow.name == name))
        return cast(CursorResult[object], result).rowcount == 1


def list_schedules(sessions: sessionmaker[Session]) -> list[Schedule]:
    """Every schedule, by model name."""
    with sessions() as session:
        return [_schedule(r) for r in session.scalars(select(ScheduleRow).order_by("name"))]


def claim_due(sessions: sessionmaker[Session], now: datetime | None = None) -> list[Schedule]:
    """The schedules due at ``now``, each moved to its next run (claimed by this caller
    only)."""
    now = now or utcnow()
    claimed = []
    with sessions() as session:
        due = list(session.scalars(select(ScheduleRow).where(ScheduleRow.next_run <= now)))
    for row in due:
        following = now + timedelta(seconds=row.every_seconds)
        with sessions.begin() as session:
            result = session.execute(
                update(ScheduleRow)
                .where(ScheduleRow.name == row.name, ScheduleRow.next_run == row.next_run)
                .values(next_run=following)
            )
            if cast(CursorResult[object], result).rowcount == 1:
                claimed.append(_schedule(row))
    return claimed

"""Progress of long work, for whoever watches it: a training job reports its stage and
how far it is (0..1) to the job queue, the terminal shows the same as progress bars.

Code that does long work says where it is — ``stage("candidate 2/4: cnn2d_2")`` when a
step of a known plan starts (after ``plan(4)``), ``step(done, total, "training")`` as a
loop advances — and whoever wants the figures opens a watcher around the work::

    with watching(lambda p: print(p.stage, p.fraction)):
        train_run(config, out)

With no watcher a report costs one context-variable read. The overall fraction is
``(steps finished + the current loop's fraction) / planned steps``, where
``with part(0.2, 0.9):`` maps the loops inside a block to that share of the step; it
never goes down (a new loop inside a step starts at 0, the fraction stays where it was
until the loop passes it).

Why not Rich's progress objects or tqdm callbacks: those belong to the terminal, and a
job runs without one; the job needs the figures, not a bar.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass


@dataclass(frozen=True)
class Progress:
    """Where the watched work is: the stage's name and the overall fraction done."""

    stage: str
    fraction: float


class _Watcher:
    def __init__(self, callback: Callable[[Progress], None]) -> None:
        self.callback = callback
        self.total = 1
        self.index = 0  # steps of the plan started so far
        self.stage = ""
        self.fraction = 0.0
        self.span = (0.0, 1.0)  # the part of the current step the loops inside cover

    def plan(self, total: int) -> None:
        self.total, self.index = max(1, total), 0

    def start(self, name: str) -> None:
        self.index = min(self.index + 1, self.total)
        self.stage = name
        self.span = (0.0, 1.0)
        self._report(self._overall(0.0), name)

    def step(self, done: float, total: float, what: str) -> None:
        inner = min(max(done / total, 0.0), 1.0) if total > 0 else 0.0
        low, high = self.span
        inner = low + inner * (high - low)
        name = f"{self.stage} — {what}" if self.stage and what else self.stage or what
        self._report(self._overall(inner), name)

    def _overall(self, inner: float) -> float:
        finished = max(self.index - 1, 0)
        return (finished + inner) / self.total

    def _report(self, fraction: float, name: str) -> None:
        self.fraction = max(self.fraction, min(fraction, 1.0))
        self.callback(Progress(name, self.fraction))


_current: ContextVar[_Watcher | None] = ContextVar("audioclf_progress", default=None)


@contextmanager
def watching(callback: Callable[[Progress], None]) -> Iterator[None]:
    """Call ``callback`` with every report of the work run inside the block."""
    token = _current.set(_Watcher(callback))
    try:
        yield
    finally:
        _current.reset(token)


def plan(total: int) -> None:
    """The work inside the watcher has ``total`` steps, each opened by :func:`stage`."""
    watcher = _current.get()
    if watcher is not None:
        watcher.plan(total)


def stage(name: str) -> None:
    """The next step of the plan starts (or, without a plan, the work is now ``name``)."""
    watcher = _current.get()
    if watcher is not None:
        watcher.start(name)


@contextmanager
def part(start: float, end: float) -> Iterator[None]:
    """The loops inside the block cover ``start``..``end`` of the current step (nested
    parts narrow it further)."""
    watcher = _current.get()
    if watcher is None:
        yield
        return
    outer = watcher.span
    low, high = outer
    watcher.span = (low + start * (high - low), low + end * (high - low))
    try:
        yield
    finally:
        watcher.span = outer


def step(done: float, total: float, what: str = "") -> None:
    """A loop inside the current step has done ``done`` of ``total``."""
    watcher = _current.get()
    if watcher is not None:
        watcher.step(done, total, what)

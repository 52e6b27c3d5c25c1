"""Stage clock: where an inference call spends its time, by named stage.

The code that scores a clip marks its stages where they run — ``with stage("model"):``
around the model's forward pass, ``with stage("pooled@0.9"):`` around one feature
extractor at one speed view — and whoever wants the split opens a clock around the
call::

    with measuring() as clock:
        predictor.predict_proba([y])
    clock.totals()  # {"pooled@1": 2.1, "model": 0.3, ...} in milliseconds

With no clock open a stage costs one context-variable read, so the marks stay in the
served code at no measurable cost. The clock lives in a :class:`contextvars.ContextVar`,
so concurrent requests in different threads (or asyncio tasks) each see only their own
stages; a :class:`StageClock` also takes a lock around its sums, so several threads may
share one deliberately.

A stage's time is its own: a stage opened inside another is subtracted from the outer
one, so the stages of a call never count a millisecond twice and their sum is the time
spent inside any stage. :func:`scope` prefixes the names of the stages inside it
(``scope("1-cnn")`` → ``1-cnn/model``), which is how an ensemble keeps its members'
stages apart.

Why not a profiler or a timing library: a sampling profiler (pyinstrument, py-spy)
reports functions, not the product's stages, and costs far more than a clock read;
codetiming's named timers are process-global, so two concurrent requests would mix
their stages. What is needed here — per-request, nested-exclusive, free when off — is
the sixty lines below.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from time import perf_counter
from types import TracebackType


class StageClock:
    """Milliseconds summed per stage name, in the order the stages first ran."""

    def __init__(self) -> None:
        self._ms: dict[str, float] = {}
        self._lock = threading.Lock()

    def add(self, name: str, ms: float) -> None:
        """Add ``ms`` milliseconds to stage ``name``."""
        with self._lock:
            self._ms[name] = self._ms.get(name, 0.0) + ms

    def totals(self) -> dict[str, float]:
        """A copy of the sums: ``{stage: ms}``."""
        with self._lock:
            return dict(self._ms)

    def total(self) -> float:
        """Milliseconds spent inside any stage."""
        with self._lock:
            return sum(self._ms.values())


_CLOCK: ContextVar[StageClock | None] = ContextVar("audioclf_stage_clock", default=None)
_PREFIX: ContextVar[str] = ContextVar("audioclf_stage_prefix", default="")
_OPEN: ContextVar[stage | None] = ContextVar("audioclf_open_stage", default=None)


class stage:  # noqa: N801 — used as a statement, like contextlib's suppress
    """``with stage(name):`` — the block's time is added to the open clock under
    ``name`` (with the current :func:`scope` prefix); nothing happens when no clock is
    open. Time spent in stages nested inside is not counted twice."""

    __slots__ = ("_clock", "_inner_ms", "_name", "_parent", "_start", "_token")

    def __init__(self, name: str) -> None:
        self._name = name
        self._clock: StageClock | None = None

    def __enter__(self) -> stage:
        self._clock = _CLOCK.get()
        if self._clock is not None:
            self._inner_ms = 0.0
            self._parent = _OPEN.get()
            self._token = _OPEN.set(self)
            self._start = perf_counter()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        clock = self._clock
        if clock is None:
            return
        elapsed = (perf_counter() - self._start) * 1000
        _OPEN.reset(self._token)
        if self._parent is not None:
            self._parent._inner_ms += elapsed
        clock.add(_PREFIX.get() + self._name, elapsed - self._inner_ms)


def record(name: str, ms: float) -> None:
    """Add ``ms`` milliseconds to stage ``name`` (with the current :func:`scope` prefix)
    of the open clock — for work timed as a whole and shared out among several stages,
    such as one batched call for clips at different speeds. Nothing happens when no clock
    is open; an enclosing stage does not count the time again."""
    clock = _CLOCK.get()
    if clock is None:
        return
    parent = _OPEN.get()
    if parent is not None:
        parent._inner_ms += ms
    clock.add(_PREFIX.get() + name, ms)


@contextmanager
def measuring(clock: StageClock | None = None) -> Iterator[StageClock]:
    """Open ``clock`` (a new one when None) for the stages run inside the block."""
    clock = clock if clock is not None else StageClock()
    token = _CLOCK.set(clock)
    open_token = _OPEN.set(None)
    try:
        yield clock
    finally:
        _OPEN.reset(open_token)
        _CLOCK.reset(token)


@contextmanager
def scope(prefix: str) -> Iterator[None]:
    """Name the stages inside the block ``PREFIX/NAME`` (scopes nest: ``a/b/NAME``)."""
    token = _PREFIX.set(f"{_PREFIX.get()}{prefix}/")
    try:
        yield
    finally:
        _PREFIX.reset(token)

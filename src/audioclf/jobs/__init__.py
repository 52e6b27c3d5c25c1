"""Where independent jobs run: in this process, one after another (the default), or as
Ray tasks on a cluster (``--ray``, :mod:`audioclf.jobs.cluster`).

A job is a function and its arguments. Callers either map a function over items
(:meth:`Executor.map`, results in the items' order) or submit one job and collect it
later (:meth:`Executor.submit`), so that other work runs meanwhile. A job's exception is
raised in the caller as itself. The executor in effect is a context variable
(:func:`using`, :func:`current`); inside a job it is always the local one, so a job
never fans out again and its own work runs on the cores it was given.

The local executor is today's behaviour exactly: ``map`` is a loop with a progress bar,
``submit`` runs the job at once. Why a protocol of our own and not
:mod:`concurrent.futures`: the Ray executor's futures are object references gathered
with ``ray.wait`` (to show jobs finishing on the cluster and to size jobs in CPUs), and
the local one must not start threads the callers did not start before.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Generic, Protocol, TypeVar

from audioclf.console import track

T = TypeVar("T")
R = TypeVar("R")
R_co = TypeVar("R_co", covariant=True)

CORES_ENV = "AUDIOCLF_CORES"
"""The cores a job may use, set by the executor that runs it (a Ray task's CPUs);
:func:`audioclf.features.threads.available_cores` reads it."""


class Pending(Protocol[R_co]):
    """A submitted job; :meth:`result` waits for it and returns its value."""

    def result(self) -> R_co: ...


class Executor(Protocol):
    """Runs independent jobs (module docstring)."""

    distributed: bool
    """True when jobs run outside this process (callers then send whole jobs, not
    closures over state that lives here)."""

    # ``cpus``: the CPUs a job holds while it runs (None: the executor's own default)

    def map(
        self,
        fn: Callable[[T], R],
        items: Sequence[T],
        *,
        description: str = "jobs",
        cpus: float | None = None,
        progress: bool = True,
    ) -> list[R]: ...

    def submit(
        self, fn: Callable[..., R], *args: Any, cpus: float | None = None, **kwargs: Any
    ) -> Pending[R]: ...

    def cores(self) -> int:
        """The CPUs jobs can run on at once."""
        ...


class _Done(Generic[R]):
    """A job that has already run."""

    def __init__(self, value: R) -> None:
        self._value = value

    def result(self) -> R:
        return self._value


class LocalExecutor:
    """Jobs in this process, one after another."""

    distributed = False

    def map(
        self,
        fn: Callable[[T], R],
        items: Sequence[T],
        *,
        description: str = "jobs",
        cpus: float | None = None,
        progress: bool = True,
    ) -> list[R]:
        return [fn(item) for item in track(items, description, enabled=progress)]

    def submit(
        self, fn: Callable[..., R], *args: Any, cpus: float | None = None, **kwargs: Any
    ) -> Pending[R]:
        return _Done(fn(*args, **kwargs))

    def cores(self) -> int:
        return os.cpu_count() or 1


LOCAL = LocalExecutor()
_current: ContextVar[Executor] = ContextVar("audioclf_executor", default=LOCAL)


def current() -> Executor:
    """The executor in effect (the local one unless :func:`using` set another)."""
    return _current.get()


@contextmanager
def using(executor: Executor) -> Iterator[Executor]:
    """Run the block with ``executor`` in effect."""
    token = _current.set(executor)
    try:
        yield executor
    finally:
        _current.reset(token)


def shards(items: Sequence[T], count: int) -> list[list[T]]:
    """``items`` cut into at most ``count`` contiguous runs of near-equal length, in order."""
    count = max(1, min(count, len(items)))
    size, extra = divmod(len(items), count)
    out, start = [], 0
    for i in range(count):
        end = start + size + (1 if i < extra else 0)
        out.append(list(items[start:end]))
        start = end
    return [s for s in out if s]

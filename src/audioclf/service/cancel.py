"""Work that stops when nobody waits for it: a client that disconnected, or a deadline
that passed.

The work runs in a worker thread and is handed a :class:`threading.Event`; it checks the
event between chunks (:func:`audioclf.inference.timeline.timeline` does, every 16
windows) and gives up when it is set. Meanwhile the request's task polls the connection
(``Request.is_disconnected``) and the clock, and sets the event when the client has gone
or ``deadline`` seconds have passed. A thread cannot be killed from outside, so work that
never checks the event runs to its end: only chunked work is cancellable this way.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

import anyio
from fastapi import HTTPException, Request

T = TypeVar("T")
POLL_SECONDS = 0.1


class Stop:
    """Why work was told to stop: the event it checks and the reason once set."""

    def __init__(self) -> None:
        self.event = threading.Event()
        self.reason = ""

    def set(self, reason: str) -> None:
        if not self.event.is_set():
            self.reason = reason
            self.event.set()

    def is_set(self) -> bool:
        return self.event.is_set()


async def run_cancellable(
    work: Callable[[Stop], T],
    request: Request,
    *,
    deadline: float,
    cancelled: type[Exception],
) -> T:
    """``work(stop)`` in a worker thread, told to stop when the client disconnects or
    ``deadline`` seconds pass. ``cancelled`` is the exception the work raises when it
    stops; it becomes a 503 naming the reason (the client, if still there, reads it)."""
    stop = Stop()

    async def watch() -> None:
        with anyio.move_on_after(deadline):
            while not stop.is_set():
                if await request.is_disconnected():
                    stop.set("the client disconnected")
                    return
                await anyio.sleep(POLL_SECONDS)
        stop.set(f"the work took longer than {deadline:g} s")

    results: list[T] = []
    async with anyio.create_task_group() as group:
        group.start_soon(watch)
        try:
            results.append(await anyio.to_thread.run_sync(work, stop))
        except cancelled:
            pass  # answered below, outside the task group (which would wrap the error)
        finally:
            stop.set("done")
    if not results:
        raise HTTPException(503, f"stopped: {stop.reason}")
    return results[0]

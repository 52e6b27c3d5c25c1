"""Work told to stop when its client disconnects or its deadline passes."""

from __future__ import annotations

import time
from typing import Any

import anyio
import pytest
from fastapi import HTTPException

from audioclf.service.cancel import Stop, run_cancellable


class GoneError(RuntimeError):
    """What the chunked work raises when told to stop."""


class FakeRequest:
    """A request whose client disconnects after ``after`` polls (never when None)."""

    def __init__(self, after: int | None) -> None:
        self.after = after
        self.polls = 0

    async def is_disconnected(self) -> bool:
        self.polls += 1
        return self.after is not None and self.polls > self.after


def chunked(stop: Stop) -> int:
    """Up to 100 chunks of 20 ms, checking the stop between them."""
    for done in range(100):
        if stop.is_set():
            raise GoneError(f"stopped after {done} chunks")
        time.sleep(0.02)
    return 100


def _run(request: Any, deadline: float) -> Any:
    async def main() -> Any:
        return await run_cancellable(chunked, request, deadline=deadline, cancelled=GoneError)

    return anyio.run(main)


def test_work_stops_when_the_client_disconnects() -> None:
    started = time.perf_counter()
    with pytest.raises(HTTPException) as err:
        _run(FakeRequest(after=2), deadline=60)
    assert err.value.status_code == 503 and "client disconnected" in err.value.detail
    assert time.perf_counter() - started < 1.5  # not the 2 s the whole work takes


def test_work_stops_at_its_deadline() -> None:
    with pytest.raises(HTTPException) as err:
        _run(FakeRequest(after=None), deadline=0.2)
    assert err.value.status_code == 503 and "longer than 0.2 s" in err.value.detail


def test_work_that_finishes_returns_its_result() -> None:
    assert _run(FakeRequest(after=None), deadline=60) == 100

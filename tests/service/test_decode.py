"""Decoding in worker processes: killed past the timeout or when cancelled, memory-capped,
the loader's errors passed through with their type."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from audioclf.audio import NotAudioError
from audioclf.service.decode import DecodeError, DecodePool
from tests.service.conftest import wav_bytes
from tests.service.decoders import greedy, sleepy


@pytest.fixture
def pid_file(tmp_path: Path) -> Path:
    return tmp_path / "pid"


@pytest.fixture
def sleepy_pool() -> Iterator[DecodePool]:
    pool = DecodePool(1, 2**31, function=sleepy)
    yield pool
    pool.close()


def _gone(pid: int, within: float = 5.0) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
            return True
        time.sleep(0.05)
    return False


def _worker_pid(pid_file: Path, within: float = 10.0) -> int:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if pid_file.is_file() and pid_file.read_text():
            return int(pid_file.read_text())
        time.sleep(0.05)
    raise AssertionError("the worker never started")


def test_a_decode_past_its_timeout_is_answered_and_its_worker_killed(
    sleepy_pool: DecodePool, pid_file: Path
) -> None:
    with pytest.raises(DecodeError, match="longer than 2 s") as err:
        asyncio.run(sleepy_pool.decode(bytes(pid_file), max_seconds=10, timeout=2))
    assert err.value.status == 422
    assert _gone(_worker_pid(pid_file))


def test_a_cancelled_decode_kills_its_worker(sleepy_pool: DecodePool, pid_file: Path) -> None:
    async def abandon() -> None:
        task = asyncio.ensure_future(
            sleepy_pool.decode(bytes(pid_file), max_seconds=10, timeout=30)
        )
        while not pid_file.is_file():
            await asyncio.sleep(0.05)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(abandon())
    assert _gone(_worker_pid(pid_file))


def test_a_decode_that_wants_too_much_memory_fails_clearly() -> None:
    pool = DecodePool(1, 1024**3, function=greedy)
    try:
        with pytest.raises(DecodeError, match="more memory") as err:
            asyncio.run(pool.decode(b"x", max_seconds=10, timeout=30))
    finally:
        pool.close()
    assert err.value.status == 413


def test_real_decodes_and_loader_errors_cross_the_process_boundary() -> None:
    pool = DecodePool(1, 2**31)
    try:
        audio = asyncio.run(pool.decode(wav_bytes(), max_seconds=10, timeout=30))
        assert audio.sample_rate == 16_000 and len(audio.samples) > 0
        with pytest.raises(NotAudioError, match="upload"):
            asyncio.run(pool.decode(b"not audio at all" * 10, max_seconds=10, timeout=30))
    finally:
        pool.close()

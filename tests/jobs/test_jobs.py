"""The executor seam: the local executor, shards, the executor in effect, a job's cores."""

from __future__ import annotations

import pytest

from audioclf import jobs
from audioclf.features.threads import available_cores


def test_shards_keep_every_item_in_order_and_near_equal() -> None:
    items = list(range(10))
    parts = jobs.shards(items, 3)
    assert parts == [[0, 1, 2, 3], [4, 5, 6], [7, 8, 9]]
    assert jobs.shards(items, 50) == [[i] for i in items]
    assert jobs.shards([], 4) == []
    assert jobs.shards(items, 0) == [items]


def test_local_executor_maps_in_order_and_runs_a_submitted_job_at_once() -> None:
    ran: list[int] = []

    def job(x: int) -> int:
        ran.append(x)
        return x * x

    local = jobs.LocalExecutor()
    assert local.map(job, [3, 1, 2], progress=False) == [9, 1, 4]
    pending = local.submit(job, 5)
    assert ran == [3, 1, 2, 5]  # ran before result() was asked for: today's order
    assert pending.result() == 25
    assert not local.distributed


def test_a_jobs_exception_reaches_the_caller_as_itself() -> None:
    def job(x: int) -> int:
        raise KeyError(x)

    with pytest.raises(KeyError):
        jobs.LOCAL.map(job, [1], progress=False)


def test_using_sets_the_executor_for_the_block_only() -> None:
    other = jobs.LocalExecutor()
    assert jobs.current() is jobs.LOCAL
    with jobs.using(other):
        assert jobs.current() is other
    assert jobs.current() is jobs.LOCAL


def test_available_cores_follows_a_jobs_cpus(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(jobs.CORES_ENV, raising=False)
    machine = available_cores()
    monkeypatch.setenv(jobs.CORES_ENV, "3")
    assert available_cores() == 3
    monkeypatch.setenv(jobs.CORES_ENV, "none")
    assert available_cores() == machine

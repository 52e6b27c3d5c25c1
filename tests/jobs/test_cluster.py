"""Jobs as Ray tasks on a local Ray: order, errors, the job's settings, the storage check."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from audioclf import jobs
from audioclf.jobs.cluster import RayExecutor, SharedStorageError, check_shared_storage

pytestmark = pytest.mark.xdist_group("ray")


def _square(x: int) -> int:
    return x * x


def _fail(x: int) -> int:
    raise ValueError(f"bad item {x}")


def _seen(_: int) -> tuple[str | None, str | None, bool]:
    return (
        os.environ.get(jobs.CORES_ENV),
        os.environ.get("AUDIOCLF_TEST_SETTING"),
        jobs.current().distributed,
    )


def test_ray_executor_maps_in_order(local_ray: Any) -> None:
    executor = RayExecutor()
    assert executor.distributed and executor.cores() == 2
    assert executor.map(_square, list(range(6)), progress=False) == [0, 1, 4, 9, 16, 25]
    assert executor.submit(_square, 7).result() == 49


def test_a_failed_task_raises_its_own_exception(local_ray: Any) -> None:
    with pytest.raises(ValueError, match="bad item 2"):
        RayExecutor().map(_fail, [2], progress=False)


def test_jobs_run_with_the_callers_settings_their_cores_and_no_executor_of_their_own(
    local_ray: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AUDIOCLF_TEST_SETTING", "from the caller")
    cores, setting, distributed = RayExecutor(job_cpus=2).map(_seen, [0], progress=False)[0]
    assert (cores, setting, distributed) == ("2", "from the caller", False)


def test_storage_check_names_the_path_a_node_cannot_read(local_ray: Any, tmp_path: Path) -> None:
    there = tmp_path / "clip.wav"
    there.write_bytes(b"RIFF")
    check_shared_storage([there], [tmp_path / "out"])  # all there: no error
    with pytest.raises(SharedStorageError, match=r"cannot read .*missing\.wav"):
        check_shared_storage([there, tmp_path / "missing.wav"], [])
    blocked = tmp_path / "file"
    blocked.write_text("")
    with pytest.raises(SharedStorageError, match="cannot write in"):
        check_shared_storage([], [blocked / "sub"])

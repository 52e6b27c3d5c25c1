"""One job run to its end in this process (as the job's own process does): its progress
on the row, its metrics, a failure's reason, and a job whose candidates train on Ray."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from audioclf.registry.datasets import DatasetStore, Limits
from audioclf.registry.db import session_factory
from audioclf.registry.job_run import reason, run_job
from audioclf.registry.jobs import JobQueue
from audioclf.registry.training import TrainRequest, submit_training


def _claimed(db_url: str, tmp_path: Path, manifest: Path, **options: Any) -> tuple[JobQueue, str]:
    sessions = session_factory(db_url)
    queue = JobQueue(sessions)
    store = DatasetStore(sessions, tmp_path / "datasets", Limits(min_clips_per_class=2))
    job = submit_training(
        TrainRequest(manifest=str(manifest), model="logreg", split="speaker"),
        store=store,
        queue=queue,
        runs_dir=tmp_path / "runs",
        options=options,
    )
    assert queue.claim("test") is not None
    return queue, job.id


def test_a_training_job_reports_progress_and_leaves_its_metrics(
    db_url: str, tmp_path: Path, corpus: Path
) -> None:
    queue, job_id = _claimed(db_url, tmp_path, corpus)
    assert run_job(job_id, db_url) == 0
    job = queue.get(job_id)
    assert job.state == "running" and job.stage == "loading the model"  # the runner ends it
    assert 0.9 < job.progress < 1.0
    assert job.metrics is not None and job.metrics["labels"] == ["high", "low"]
    assert sum(map(sum, job.metrics["confusion"])) == job.metrics["n_test"]
    assert job.run_dir is not None and (job.run_dir / "model.onnx").is_file()


def test_a_failing_job_records_why(db_url: str, tmp_path: Path, corpus: Path) -> None:
    queue, job_id = _claimed(db_url, tmp_path, corpus)
    job = queue.get(job_id)
    assert job.manifest is not None
    job.manifest.write_text("{not json\n")
    assert run_job(job_id, db_url) == 1
    failed = queue.get(job_id)
    assert failed.state == "failed" and failed.error and "line 1" in failed.error


def test_reasons_are_one_line() -> None:
    assert reason(ValueError("first\nsecond")) == "ValueError: first"
    assert reason(KeyboardInterrupt()) == "KeyboardInterrupt"


@pytest.mark.xdist_group("ray")
def test_a_job_trains_on_ray_when_the_server_says_so(
    db_url: str, tmp_path: Path, corpus: Path, local_ray: Any
) -> None:
    queue, job_id = _claimed(db_url, tmp_path, corpus, ray=True)
    assert run_job(job_id, db_url) == 0
    assert queue.get(job_id).metrics is not None

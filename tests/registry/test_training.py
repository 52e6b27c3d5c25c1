"""Queueing a training job: the checks on the dataset, the split chosen and said, and
the frozen snapshot the job trains on."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from audioclf.formats.manifest import read_manifest, write_manifest
from audioclf.registry.datasets import DatasetStore, Limits
from audioclf.registry.db import RegistryError, session_factory
from audioclf.registry.jobs import JobConflictError, JobInfo, JobQueue
from audioclf.registry.training import TrainRequest, submit_training
from tests.conftest import tone


@pytest.fixture
def store(db_url: str, tmp_path: Path) -> DatasetStore:
    return DatasetStore(session_factory(db_url), tmp_path / "d", Limits(min_clips_per_class=2))


def _dataset(store: DatasetStore, speakers: list[str | None]) -> str:
    info = store.create("d", ["a", "b"])
    for label in ("a", "b"):
        for speaker in speakers:
            store.add_clip(info.id, tone(), 16_000, label=label, speaker=speaker)
    return info.id


def _submit(store: DatasetStore, tmp_path: Path, **request: Any) -> JobInfo:
    return submit_training(
        TrainRequest(**request),
        store=store,
        queue=JobQueue(store.sessions),
        runs_dir=tmp_path / "runs",
        taken={"served"},
    )


def test_an_empty_or_thin_dataset_is_refused(store: DatasetStore, tmp_path: Path) -> None:
    info = store.create("d", ["a", "b"])
    with pytest.raises(RegistryError, match="no clips"):
        _submit(store, tmp_path, dataset=info.id)
    store.add_clip(info.id, tone(), 16_000, label="a")
    with pytest.raises(RegistryError, match="at least 2 clips to train: 'a' has 1, 'b' has 0"):
        _submit(store, tmp_path, dataset=info.id)


def test_unknown_models_and_taken_names_are_refused(store: DatasetStore, tmp_path: Path) -> None:
    dataset = _dataset(store, [None, None])
    with pytest.raises(RegistryError, match="unknown model 'nope'"):
        _submit(store, tmp_path, dataset=dataset, model="nope")
    with pytest.raises(JobConflictError, match="already served from elsewhere"):
        _submit(store, tmp_path, dataset=dataset, name="served")
    with pytest.raises(RegistryError, match="either 'dataset'"):
        _submit(store, tmp_path)


def test_three_named_speakers_give_a_speaker_split(store: DatasetStore, tmp_path: Path) -> None:
    job = _submit(store, tmp_path, dataset=_dataset(store, ["s1", "s2", "s3"]), model="logreg")
    assert job.options["split"] == "speaker"
    assert "held out of training" in job.notes[0]


def test_fewer_speakers_give_a_random_split_that_says_so(
    store: DatasetStore, tmp_path: Path
) -> None:
    dataset = _dataset(store, ["s1", "s2"])
    job = _submit(store, tmp_path, dataset=dataset)
    assert job.options["split"] == "random"
    assert "2 speaker(s) named, 3 needed" in job.notes[0]
    with pytest.raises(RegistryError, match="a speaker split needs"):
        _submit(store, tmp_path, dataset=dataset, split="speaker")


def test_the_job_trains_on_a_snapshot(store: DatasetStore, tmp_path: Path) -> None:
    dataset = _dataset(store, [None, None])
    job = _submit(store, tmp_path, dataset=dataset, name="doorbell", time_budget_minutes=1)
    assert job.model == "doorbell"
    assert job.run_dir is not None and job.run_dir.name.startswith("doorbell-")
    store.add_clip(dataset, tone(), 16_000, label="a")  # after: not in the job
    assert job.manifest is not None
    snapshot = read_manifest(job.manifest)
    assert len(snapshot) == 4 and job.clip_ids == [c.id for c in snapshot]
    assert all(Path(c.path).is_file() for c in snapshot)


def test_a_manifest_on_the_server_trains_too(store: DatasetStore, tmp_path: Path) -> None:
    dataset = _dataset(store, [None, None])
    path = tmp_path / "m.jsonl"
    path.write_text((store.folder(dataset) / "x").name)  # not JSON
    with pytest.raises(RegistryError, match="cannot read the manifest"):
        _submit(store, tmp_path, manifest=str(path))
    write_manifest(store.manifest(dataset), path)
    job = _submit(store, tmp_path, manifest=str(path))
    assert job.model == "m" and job.dataset is None

"""Datasets made over HTTP, at the store: names, classes, clips as FLAC, quotas, the
manifest the CLI trains on, the archive, and edits refused while a job trains."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from audioclf.formats.manifest import read_manifest
from audioclf.registry.datasets import (
    DatasetConflictError,
    DatasetNotFoundError,
    DatasetStore,
    Limits,
)
from audioclf.registry.db import RegistryError, session_factory
from audioclf.registry.jobs import TRAIN, JobQueue
from tests.conftest import tone


@pytest.fixture
def store(db_url: str, tmp_path: Path) -> DatasetStore:
    return DatasetStore(session_factory(db_url), tmp_path / "datasets", Limits(max_clips=4))


def test_a_dataset_is_created_with_its_classes_and_listed(store: DatasetStore) -> None:
    info = store.create("doorbell", ["ding", "noise"])
    assert info.classes == ["ding", "noise"]
    assert info.counts == {"ding": 0, "noise": 0}
    assert info.created.tzinfo is not None
    assert [d.id for d in store.list()] == [info.id]
    assert store.add_class(info.id, "knock").counts == {"ding": 0, "noise": 0, "knock": 0}


@pytest.mark.parametrize(
    ("name", "classes", "needle"),
    [
        ("bad name", ["a", "b"], "invalid dataset name"),
        ("", ["a", "b"], "invalid dataset name"),
        ("ok", ["a"], "at least two classes"),
        ("ok", ["a", "a"], "given twice: a"),
        ("ok", ["a", " b"], "invalid class name"),
        ("ok", ["a", "x" * 101], "invalid class name"),
    ],
)
def test_bad_names_and_classes_are_refused(
    store: DatasetStore, name: str, classes: list[str], needle: str
) -> None:
    with pytest.raises(RegistryError, match=needle):
        store.create(name, classes)


def test_a_taken_name_is_a_conflict(store: DatasetStore) -> None:
    store.create("d", ["a", "b"])
    with pytest.raises(DatasetConflictError, match="exists"):
        store.create("d", ["a", "b"])


def test_clips_are_stored_as_flac_and_counted(store: DatasetStore) -> None:
    info = store.create("d", ["a", "b"])
    clip = store.add_clip(info.id, tone(0.5, 16_000), 16_000, label="a", speaker="ann")
    path = store.clip_file(info.id, clip.id)
    audio, rate = sf.read(path)
    assert sf.info(path).format == "FLAC" and rate == 16_000 and len(audio) == 8000
    assert np.abs(audio - tone(0.5, 16_000)).max() < 1e-3
    again = store.get(info.id)
    assert again.counts == {"a": 1, "b": 0} and again.speakers == ["ann"]
    assert again.bytes == path.stat().st_size and again.seconds == 0.5


def test_an_unknown_class_lists_the_classes(store: DatasetStore) -> None:
    info = store.create("d", ["a", "b"])
    with pytest.raises(RegistryError, match="unknown class 'c'; the dataset's classes are a, b"):
        store.add_clip(info.id, tone(), 16_000, label="c")
    assert not list((store.folder(info.id) / "clips").iterdir())  # nothing written


def test_quotas_bound_clips_bytes_and_length(db_url: str, tmp_path: Path) -> None:
    limits = Limits(max_clips=2, max_bytes=10**9, max_clip_seconds=1.0)
    store = DatasetStore(session_factory(db_url), tmp_path / "d", limits)
    info = store.create("d", ["a", "b"])
    with pytest.raises(DatasetConflictError, match="at most 1 s"):
        store.add_clip(info.id, tone(1.5), 16_000, label="a")
    store.add_clip(info.id, tone(), 16_000, label="a")
    store.add_clip(info.id, tone(), 16_000, label="b")
    with pytest.raises(DatasetConflictError, match="at most 2 clips"):
        store.add_clip(info.id, tone(), 16_000, label="a")
    assert len(list((store.folder(info.id) / "clips").iterdir())) == 2  # the refused one left

    small = DatasetStore(store.sessions, tmp_path / "e", Limits(max_bytes=1000))
    other = small.create("e", ["a", "b"])
    with pytest.raises(DatasetConflictError, match="at most 1000 bytes"):
        small.add_clip(other.id, tone(1.0), 16_000, label="a")


def test_the_manifest_trains_as_the_cli_reads_it(store: DatasetStore, tmp_path: Path) -> None:
    info = store.create("d", ["a", "b"])
    store.add_clip(info.id, tone(), 16_000, label="a", speaker="s1")
    store.add_clip(info.id, tone(freq=880), 16_000, label="b")
    relative = store.manifest(info.id, relative=True)
    assert [c.path for c in relative] == [f"clips/{c.id}.flac" for c in relative]
    absolute = store.manifest(info.id)
    assert all(Path(c.path).is_file() for c in absolute)
    assert [(c.label, c.speaker, c.corpus) for c in absolute] == [
        ("a", "s1", "d"),
        ("b", None, "d"),
    ]

    buffer = io.BytesIO()
    store.archive(info.id, buffer)
    out = tmp_path / "unzipped"
    zipfile.ZipFile(io.BytesIO(buffer.getvalue())).extractall(out)
    unzipped = read_manifest(out / "manifest.jsonl")
    assert [c.label for c in unzipped] == ["a", "b"]
    assert all(Path(c.path).is_file() for c in unzipped)


def test_deleting_clips_and_datasets(store: DatasetStore) -> None:
    info = store.create("d", ["a", "b"])
    clip = store.add_clip(info.id, tone(), 16_000, label="a")
    path = store.clip_file(info.id, clip.id)
    store.delete_clip(info.id, clip.id)
    assert not path.exists() and store.get(info.id).clips == 0
    with pytest.raises(DatasetNotFoundError, match="no clip"):
        store.delete_clip(info.id, clip.id)
    store.delete(info.id)
    assert not store.folder(info.id).exists()
    with pytest.raises(DatasetNotFoundError, match="no dataset"):
        store.get(info.id)


def test_a_job_freezes_the_clips_it_trains_on(store: DatasetStore) -> None:
    info = store.create("d", ["a", "b"])
    frozen = store.add_clip(info.id, tone(), 16_000, label="a")
    job = JobQueue(store.sessions).submit(TRAIN, "d", {}, dataset=info.id, clip_ids=[frozen.id])
    assert store.get(info.id).active_job == job.id
    later = store.add_clip(info.id, tone(), 16_000, label="b")  # adding is fine
    with pytest.raises(DatasetConflictError, match=f"job {job.id} \\(queued\\) trains on"):
        store.delete_clip(info.id, frozen.id)
    store.delete_clip(info.id, later.id)  # not in the job's snapshot
    with pytest.raises(DatasetConflictError, match="cancel it or wait"):
        store.delete(info.id)
    JobQueue(store.sessions).cancel(job.id)
    store.delete_clip(info.id, frozen.id)
    store.delete(info.id)


def test_sweep_removes_audio_without_a_row(store: DatasetStore) -> None:
    info = store.create("d", ["a", "b"])
    kept = store.add_clip(info.id, tone(), 16_000, label="a")
    orphan = store.folder(info.id) / "clips" / "0123abcd.flac"
    orphan.write_bytes(b"left by a crash")
    assert store.sweep() == 1
    assert not orphan.exists() and store.clip_file(info.id, kept.id).exists()

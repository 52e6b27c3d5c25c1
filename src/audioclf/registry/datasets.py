"""Datasets made over HTTP: named classes, and clips stored decoded as FLAC.

A dataset is a row of the registry database (its name and classes) and a folder
``ROOT/<id>/`` whose ``clips/<clip id>.flac`` hold its audio, 16-bit mono at the rate the
clip was decoded at. The database is the truth about which clips exist; the manifest
the CLI trains on (:meth:`DatasetStore.manifest`) is written from it, with paths
relative to the dataset folder. A clip's file is written before its row is committed
and removed after its row is deleted, so a crash leaves at worst an orphan file, never a
row without audio; :meth:`DatasetStore.sweep` removes such files.

Quotas bound every dataset (clips, bytes, seconds per clip) and the number of datasets;
the limits are the caller's (the server's settings).
"""

from __future__ import annotations

import builtins
import io
import re
import shutil
import uuid
import zipfile
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import cast

import numpy as np
import soundfile as sf
from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from audioclf.formats.atomic import atomic_path
from audioclf.formats.manifest import Clip, Manifest, manifest_line
from audioclf.registry.db import RegistryError
from audioclf.registry.tables import (
    ACTIVE_STATES,
    DatasetClipRow,
    DatasetRow,
    JobRow,
    aware,
    utcnow,
)

NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}")
MAX_LABEL = 100
CLIPS_DIR = "clips"
MANIFEST = "manifest.jsonl"


class DatasetNotFoundError(RegistryError):
    """No dataset or clip with that id."""


class DatasetConflictError(RegistryError):
    """The change clashes with the dataset's state: a name taken, a quota full, a job
    training on it."""


@dataclass(frozen=True)
class Limits:
    """The bounds of every dataset."""

    max_clips: int = 2000
    max_bytes: int = 500 * 1024**2
    max_clip_seconds: float = 30.0
    max_datasets: int = 100
    min_clips_per_class: int = 5


@dataclass(frozen=True)
class ClipInfo:
    """One stored clip."""

    id: str
    label: str
    speaker: str | None
    seconds: float
    bytes: int
    created: datetime


@dataclass(frozen=True)
class DatasetInfo:
    """A dataset and what it holds."""

    id: str
    name: str
    classes: list[str]
    counts: dict[str, int]
    speakers: list[str]
    clips: int
    bytes: int
    seconds: float
    created: datetime
    active_job: str | None


def check_name(name: str, what: str = "dataset name") -> str:
    """``name`` if it is 1-100 letters, digits, ``-``, ``_`` or ``.`` (not first)."""
    if not NAME.fullmatch(name):
        raise RegistryError(
            f"invalid {what} {name!r}: use 1-100 letters, digits, '-', '_' or '.', "
            "starting with a letter or digit"
        )
    return name


def check_label(label: str, what: str = "class name") -> str:
    """A class or speaker name: 1-100 printable characters, no surrounding spaces."""
    if not label or len(label) > MAX_LABEL or label != label.strip() or not label.isprintable():
        raise RegistryError(
            f"invalid {what} {label!r}: use 1-{MAX_LABEL} printable characters without "
            "leading or trailing spaces"
        )
    return label


def check_classes(classes: Sequence[str]) -> list[str]:
    """At least two distinct, valid class names."""
    names = [check_label(c) for c in classes]
    duplicates = sorted({c for c in names if names.count(c) > 1})
    if duplicates:
        raise RegistryError(f"classes given twice: {', '.join(duplicates)}")
    if len(names) < 2:
        raise RegistryError("a dataset needs at least two classes")
    return names


class DatasetStore:
    """Datasets in the registry database, their audio under ``root``."""

    def __init__(self, sessions: sessionmaker[Session], root: Path, limits: Limits) -> None:
        self.sessions = sessions
        self.root = Path(root)
        self.limits = limits

    def folder(self, dataset_id: str) -> Path:
        """The dataset's folder (its clips are in ``clips/``)."""
        return self.root / dataset_id

    def clip_path(self, dataset_id: str, clip_id: str) -> Path:
        """Where a clip's FLAC file is."""
        return self.folder(dataset_id) / CLIPS_DIR / f"{clip_id}.flac"

    def create(self, name: str, classes: Sequence[str]) -> DatasetInfo:
        """A new empty dataset."""
        name, classes = check_name(name), check_classes(classes)
        row = DatasetRow(id=uuid.uuid4().hex, name=name, classes=classes, created=utcnow())
        try:
            with self.sessions.begin() as session:
                count = session.scalar(select(func.count()).select_from(DatasetRow)) or 0
                if count >= self.limits.max_datasets:
                    raise DatasetConflictError(
                        f"the server keeps at most {self.limits.max_datasets} datasets; "
                        "delete one first"
                    )
                session.add(row)
        except IntegrityError:
            raise DatasetConflictError(
                f"a dataset named {name!r} exists; choose another name"
            ) from None
        self.folder(row.id).joinpath(CLIPS_DIR).mkdir(parents=True, exist_ok=True)
        return self.get(row.id)

    def list(self) -> builtins.list[DatasetInfo]:
        """Every dataset, newest first."""
        with self.sessions() as session:
            ids = session.scalars(select(DatasetRow.id).order_by(DatasetRow.created.desc()))
            return [self._info(session, i) for i in ids]

    def get(self, dataset_id: str) -> DatasetInfo:
        """One dataset (:class:`DatasetNotFoundError` when there is none)."""
        with self.sessions() as session:
            return self._info(session, dataset_id)

    def add_class(self, dataset_id: str, name: str) -> DatasetInfo:
        """Add a class to a dataset."""
        name = check_label(name)
        with self.sessions.begin() as session:
            row = self._row(session, dataset_id, for_update=True)
            if name in row.classes:
                raise DatasetConflictError(f"the dataset already has a class {name!r}")
            row.classes = [*row.classes, name]
        return self.get(dataset_id)

    def delete(self, dataset_id: str) -> None:
        """Remove a dataset and its audio (refused while a job trains on it)."""
        with self.sessions.begin() as session:
            self._row(session, dataset_id, for_update=True)
            job = _active_job(session, dataset_id)
            if job is not None:
                raise DatasetConflictError(
                    f"job {job.id} is {job.state} on this dataset; cancel it or wait for it"
                )
            session.execute(delete(DatasetClipRow).where(DatasetClipRow.dataset_id == dataset_id))
            session.execute(delete(DatasetRow).where(DatasetRow.id == dataset_id))
        shutil.rmtree(self.folder(dataset_id), ignore_errors=True)

    def add_clip(
        self,
        dataset_id: str,
        samples: np.ndarray,
        sample_rate: int,
        *,
        label: str,
        speaker: str | None = None,
    ) -> ClipInfo:
        """Store one decoded mono clip under ``label``; refused when the class is unknown
        or a quota would be passed."""
        if speaker is not None:
            speaker = check_label(speaker, "speaker name")
        seconds = len(samples) / sample_rate
        if seconds > self.limits.max_clip_seconds:
            raise DatasetConflictError(
                f"the clip is {seconds:.1f} s; dataset clips may be at most "
                f"{self.limits.max_clip_seconds:g} s"
            )
        with self.sessions() as session:
            row = self._row(session, dataset_id)
            if label not in row.classes:
                raise RegistryError(
                    f"unknown class {label!r}; the dataset's classes are {', '.join(row.classes)}"
                )
        clip_id = uuid.uuid4().hex
        path = self.clip_path(dataset_id, clip_id)
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(path) as tmp:
            sf.write(tmp, samples, sample_rate, format="FLAC", subtype="PCM_16")
        size = path.stat().st_size
        try:
            with self.sessions.begin() as session:
                self._row(session, dataset_id, for_update=True)
                self._check_quota(session, dataset_id, size)
                clip = DatasetClipRow(
                    id=clip_id,
                    dataset_id=dataset_id,
                    label=label,
                    speaker=speaker,
                    seconds=round(seconds, 4),
                    bytes=size,
                    created=utcnow(),
                )
                session.add(clip)
                session.flush()
                return _clip_info(clip)
        except BaseException:
            path.unlink(missing_ok=True)
            raise

    def clips(self, dataset_id: str) -> builtins.list[ClipInfo]:
        """A dataset's clips, oldest first."""
        with self.sessions() as session:
            self._row(session, dataset_id)
            rows = session.scalars(
                select(DatasetClipRow)
                .where(DatasetClipRow.dataset_id == dataset_id)
                .order_by(DatasetClipRow.created, DatasetClipRow.id)
            )
            return [_clip_info(r) for r in rows]

    def clip_file(self, dataset_id: str, clip_id: str) -> Path:
        """The FLAC file of one clip."""
        with self.sessions() as session:
            self._clip_row(session, dataset_id, clip_id)
        return self.clip_path(dataset_id, clip_id)

    def delete_clip(self, dataset_id: str, clip_id: str) -> None:
        """Remove one clip (refused while a queued or running job trains on it)."""
        with self.sessions.begin() as session:
            self._clip_row(session, dataset_id, clip_id)
            for job in _active_jobs(session, dataset_id):
                if clip_id in (job.clip_ids or []):
                    raise DatasetConflictError(
                        f"job {job.id} ({job.state}) trains on this clip; cancel it or wait "
                        "for it to finish"
                    )
            session.execute(delete(DatasetClipRow).where(DatasetClipRow.id == clip_id))
        self.clip_path(dataset_id, clip_id).unlink(missing_ok=True)

    def manifest(self, dataset_id: str, *, relative: bool = False) -> Manifest:
        """The dataset as the CLI's manifest: one row per clip, ``corpus`` the dataset's
        name, paths absolute or (``relative``) relative to the dataset folder."""
        with self.sessions() as session:
            row = self._row(session, dataset_id)
            clips = session.scalars(
                select(DatasetClipRow)
                .where(DatasetClipRow.dataset_id == dataset_id)
                .order_by(DatasetClipRow.created, DatasetClipRow.id)
            ).all()
            name = row.name
        base = Path(CLIPS_DIR) if relative else self.folder(dataset_id).resolve() / CLIPS_DIR
        return Manifest(
            [
                Clip(
                    id=c.id,
                    path=str(base / f"{c.id}.flac"),
                    label=c.label,
                    speaker=c.speaker,
                    duration=c.seconds,
                    channels=1,
                    corpus=name,
                )
                for c in clips
            ]
        )

    def archive(self, dataset_id: str, out: io.BufferedIOBase) -> None:
        """Write a zip of ``manifest.jsonl`` and ``clips/`` (unzip, then train with
        ``audioclf train --data manifest.jsonl``) to ``out``."""
        manifest = self.manifest(dataset_id, relative=True)
        lines = "".join(manifest_line(c) for c in manifest)
        with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED) as archive:
            archive.writestr(MANIFEST, lines)
            for clip in manifest:
                archive.write(self.folder(dataset_id) / clip.path, clip.path)

    def sweep(self) -> int:
        """Remove clip files without a row (left by a crash between file and commit)."""
        removed = 0
        with self.sessions() as session:
            known = set(session.scalars(select(DatasetClipRow.id)))
            datasets = set(session.scalars(select(DatasetRow.id)))
        for folder in self.root.glob(f"*/{CLIPS_DIR}"):
            if folder.parent.name not in datasets:
                continue
            for path in folder.glob("*.flac"):
                if path.stem not in known:
                    path.unlink(missing_ok=True)
                    removed += 1
        return removed

    def _check_quota(self, session: Session, dataset_id: str, size: int) -> None:
        count, total = session.execute(
            select(func.count(), func.coalesce(func.sum(DatasetClipRow.bytes), 0)).where(
                DatasetClipRow.dataset_id == dataset_id
            )
        ).one()
        if count + 1 > self.limits.max_clips:
            raise DatasetConflictError(
                f"the dataset is full: at most {self.limits.max_clips} clips; delete some first"
            )
        if total + size > self.limits.max_bytes:
            raise DatasetConflictError(
                f"the dataset is full: at most {self.limits.max_bytes} bytes of audio "
                f"({total} used); delete some clips first"
            )

    def _info(self, session: Session, dataset_id: str) -> DatasetInfo:
        row = self._row(session, dataset_id)
        clips = session.execute(
            select(
                DatasetClipRow.label,
                DatasetClipRow.speaker,
                DatasetClipRow.bytes,
                DatasetClipRow.seconds,
            ).where(DatasetClipRow.dataset_id == dataset_id)
        ).all()
        counts = Counter(c.label for c in clips)
        job = _active_job(session, dataset_id)
        return DatasetInfo(
            id=row.id,
            name=row.name,
            classes=list(row.classes),
            counts={label: counts.get(label, 0) for label in row.classes},
            speakers=sorted({c.speaker for c in clips if c.speaker}),
            clips=len(clips),
            bytes=int(sum(c.bytes for c in clips)),
            seconds=round(float(sum(c.seconds for c in clips)), 3),
            created=cast(datetime, aware(row.created)),
            active_job=job.id if job else None,
        )

    def _row(self, session: Session, dataset_id: str, *, for_update: bool = False) -> DatasetRow:
        query = select(DatasetRow).where(DatasetRow.id == dataset_id)
        row = session.scalar(query.with_for_update() if for_update else query)
        if row is None:
            raise DatasetNotFoundError(f"no dataset {dataset_id!r}; GET /v1/datasets lists them")
        return row

    def _clip_row(self, session: Session, dataset_id: str, clip_id: str) -> DatasetClipRow:
        self._row(session, dataset_id)
        row = session.scalar(
            select(DatasetClipRow).where(
                DatasetClipRow.id == clip_id, DatasetClipRow.dataset_id == dataset_id
            )
        )
        if row is None:
            raise DatasetNotFoundError(f"the dataset has no clip {clip_id!r}")
        return row


def _active_jobs(session: Session, dataset_id: str) -> builtins.list[JobRow]:
    return list(
        session.scalars(
            select(JobRow)
            .where(JobRow.dataset_id == dataset_id, JobRow.state.in_(ACTIVE_STATES))
            .order_by(JobRow.created)
        )
    )


def _active_job(session: Session, dataset_id: str) -> JobRow | None:
    jobs = _active_jobs(session, dataset_id)
    return jobs[0] if jobs else None


def _clip_info(row: DatasetClipRow) -> ClipInfo:
    created = cast(datetime, aware(row.created))
    return ClipInfo(row.id, row.label, row.speaker, row.seconds, row.bytes, created)

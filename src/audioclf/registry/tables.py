"""The registry's tables as SQLAlchemy 2 typed ORM classes.

The schema is owned by the Alembic migrations in ``migrations/versions``; these classes
must match the latest revision (``tests/registry/test_migrations.py`` checks it).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

STAGES = ("candidate", "production", "archived")


def utcnow() -> datetime:
    """Now, timezone-aware UTC (stored as UTC on every backend)."""
    return datetime.now(UTC)


def aware(when: datetime | None) -> datetime | None:
    """``when`` as timezone-aware UTC (SQLite hands back naive datetimes)."""
    if when is None or when.tzinfo is not None:
        return when
    return when.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    """Base of every registry table."""


class ModelVersion(Base):
    """One registered version of a named model: a run folder and its stage."""

    __tablename__ = "models"
    __table_args__ = (UniqueConstraint("name", "version", name="uq_models_name_version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    version: Mapped[int] = mapped_column(Integer)
    run_dir: Mapped[str] = mapped_column(String(1000))
    task: Mapped[str] = mapped_column(String(200), default="")
    labels: Mapped[list[str]] = mapped_column(JSON)
    metrics: Mapped[dict[str, Any]] = mapped_column(JSON)
    created: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    stage: Mapped[str] = mapped_column(String(20), default="candidate")
    # revision 0002: when it was last promoted (rollback returns to the one before) and the
    # label counts of its training split (the monitoring page compares traffic with them)
    promoted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    train_distribution: Mapped[dict[str, int] | None] = mapped_column(JSON, nullable=True)


class PredictionRow(Base):
    """One served prediction: which version answered what, how fast, for which audio hash."""

    __tablename__ = "predictions"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    created: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    model_name: Mapped[str] = mapped_column(String(200), index=True)
    model_version: Mapped[int] = mapped_column(Integer)
    top_label: Mapped[str] = mapped_column(String(200))
    probabilities: Mapped[dict[str, float]] = mapped_column(JSON)
    latency_ms: Mapped[float] = mapped_column(Float)
    audio_sha256: Mapped[str] = mapped_column(String(64))


class FeedbackRow(Base):
    """A user's correction of one prediction (revision 0002)."""

    __tablename__ = "feedback"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    prediction_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("predictions.id", ondelete="CASCADE"), unique=True
    )
    correct_label: Mapped[str] = mapped_column(String(200))
    who: Mapped[str] = mapped_column(String(200), default="")
    created: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    consent: Mapped[bool] = mapped_column(Boolean, default=False)
    clip_path: Mapped[str | None] = mapped_column(String(1000), nullable=True)


class LockRow(Base):
    """A lease on a named job (revision 0002): one holder until released or expired."""

    __tablename__ = "locks"

    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    holder: Mapped[str] = mapped_column(String(200))
    acquired_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


JOB_STATES = ("queued", "running", "done", "failed", "cancelled")
ACTIVE_STATES = ("queued", "running")


class DatasetRow(Base):
    """A dataset made over HTTP (revision 0003): its classes; the clips are rows of
    :class:`DatasetClipRow`, their audio FLAC files in the dataset's folder."""

    __tablename__ = "datasets"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    classes: Mapped[list[str]] = mapped_column(JSON)
    created: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class DatasetClipRow(Base):
    """One clip of a dataset (revision 0003): ``clips/<id>.flac`` in its folder."""

    __tablename__ = "dataset_clips"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    dataset_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("datasets.id", ondelete="CASCADE"), index=True
    )
    label: Mapped[str] = mapped_column(String(100))
    speaker: Mapped[str | None] = mapped_column(String(100), nullable=True)
    seconds: Mapped[float] = mapped_column(Float)
    bytes: Mapped[int] = mapped_column(Integer)
    created: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class JobRow(Base):
    """A training or retraining job in the queue (revision 0003)."""

    __tablename__ = "jobs"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    state: Mapped[str] = mapped_column(String(20), index=True, default="queued")
    stage: Mapped[str] = mapped_column(String(300), default="")
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    dataset_id: Mapped[str | None] = mapped_column(String(32), nullable=True, index=True)
    model_name: Mapped[str] = mapped_column(String(200))
    options: Mapped[dict[str, Any]] = mapped_column(JSON)
    notes: Mapped[list[str]] = mapped_column(JSON)
    clip_ids: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)
    manifest: Mapped[str | None] = mapped_column(String(1000), nullable=True)
    run_dir: Mapped[str | None] = mapped_column(String(1000), nullable=True)
    metrics: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    started: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    finished: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    heartbeat: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    holder: Mapped[str | None] = mapped_column(String(200), nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    version: Mapped[int | None] = mapped_column(Integer, nullable=True)


class ScheduleRow(Base):
    """A scheduled retraining of a registered model (revision 0003)."""

    __tablename__ = "schedules"

    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    data: Mapped[str] = mapped_column(String(1000))
    every_seconds: Mapped[int] = mapped_column(Integer)
    margin: Mapped[float] = mapped_column(Float)
    next_run: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

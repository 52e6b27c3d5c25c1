"""The model registry: numbered versions of named models and their stage.

A version is a finished run folder. ``add`` registers the next version as ``candidate``;
``promote`` makes one version ``production`` and archives the one it replaces;
``rollback`` archives the production version and brings back the one promoted before it.
Each of these is one transaction, so a crash never leaves two production versions.
"""

from __future__ import annotations

import builtins
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from audioclf.formats.manifest import read_manifest
from audioclf.formats.runfolder import RunFolder, RunFolderError
from audioclf.registry.db import RegistryError, session_factory
from audioclf.registry.tables import ModelVersion, utcnow

SUMMARY_KEYS = ("accuracy", "balanced_accuracy", "macro_f1", "n_test")


@dataclass(frozen=True)
class VersionInfo:
    """A registered version, detached from the database session."""

    name: str
    version: int
    run_dir: Path
    task: str
    labels: list[str]
    metrics: dict[str, Any]
    created: datetime
    stage: str
    promoted_at: datetime | None
    train_distribution: dict[str, int]

    @classmethod
    def of(cls, row: ModelVersion) -> VersionInfo:
        return cls(
            name=row.name,
            version=row.version,
            run_dir=Path(row.run_dir),
            task=row.task,
            labels=list(row.labels),
            metrics=dict(row.metrics),
            created=row.created,
            stage=row.stage,
            promoted_at=row.promoted_at,
            train_distribution=dict(row.train_distribution or {}),
        )


def _train_distribution(run: RunFolder) -> dict[str, int]:
    if not run.split("train").is_file():
        return {}
    try:
        return dict(Counter(c.label for c in read_manifest(run.split("train"))))
    except ValueError:
        return {}


class Registry:
    """Named, versioned models in the registry database (``AUDIOCLF_DB_URL``)."""

    def __init__(
        self, url: str | None = None, *, sessions: sessionmaker[Session] | None = None
    ) -> None:
        self.sessions = sessions or session_factory(url)

    def add(self, run_dir: str | Path, name: str) -> VersionInfo:
        """Register a finished run folder as the next version of ``name`` (a candidate)."""
        name = _check_name(name)
        run = RunFolder(Path(run_dir).resolve())
        try:
            card = run.read_card()
            metrics = run.read_metrics()
        except RunFolderError as err:
            raise RegistryError(f"cannot register {run_dir}: {err}") from None
        summary = {k: metrics[k] for k in SUMMARY_KEYS if k in metrics}
        with self.sessions.begin() as session:
            last = session.scalar(
                select(func.max(ModelVersion.version)).where(ModelVersion.name == name)
            )
            row = ModelVersion(
                name=name,
                version=(last or 0) + 1,
                run_dir=str(run.root),
                task=card.task,
                labels=list(card.labels),
                metrics=summary,
                created=utcnow(),
                stage="candidate",
                train_distribution=_train_distribution(run),
            )
            session.add(row)
            session.flush()
            return VersionInfo.of(row)

    def list(self, name: str | None = None) -> list[VersionInfo]:
        """Every version (of ``name``), by name then version."""
        query = select(ModelVersion).order_by(ModelVersion.name, ModelVersion.version)
        if name is not None:
            query = query.where(ModelVersion.name == name)
        with self.sessions() as session:
            return [VersionInfo.of(r) for r in session.scalars(query)]

    def get(self, name: str, version: int) -> VersionInfo:
        """One version; a clear error lists the versions that exist."""
        with self.sessions() as session:
            return VersionInfo.of(self._row(session, name, version))

    def production(self, name: str) -> VersionInfo:
        """The production version of ``name``."""
        with self.sessions() as session:
            row = session.scalar(
                select(ModelVersion).where(
                    ModelVersion.name == name, ModelVersion.stage == "production"
                )
            )
            if row is None:
                self._require_name(session, name)
                raise RegistryError(
                    f"model {name!r} has no production version; promote one with "
                    f"`audioclf registry promote {name} VERSION`"
                )
            return VersionInfo.of(row)

    def promote(self, name: str, version: int) -> VersionInfo:
        """Make ``version`` the production version of ``name``; archive the previous one."""
        with self.sessions.begin() as session:
            row = self._row(session, name, version, for_update=True)
            if row.stage == "production":
                return VersionInfo.of(row)
            session.execute(
                update(ModelVersion)
                .where(ModelVersion.name == name, ModelVersion.stage == "production")
                .values(stage="archived")
            )
            row.stage = "production"
            row.promoted_at = utcnow()
            session.flush()
            return VersionInfo.of(row)

    def rollback(self, name: str) -> VersionInfo:
        """Archive the production version and restore the one promoted before it."""
        with self.sessions.begin() as session:
            self._require_name(session, name)
            current = session.scalar(
                select(ModelVersion)
                .where(ModelVersion.name == name, ModelVersion.stage == "production")
                .with_for_update()
            )
            if current is None:
                raise RegistryError(f"model {name!r} has no production version to roll back")
            previous = session.scalar(
                select(ModelVersion)
                .where(
                    ModelVersion.name == name,
                    ModelVersion.stage == "archived",
                    ModelVersion.promoted_at.is_not(None),
                )
                .order_by(ModelVersion.promoted_at.desc(), ModelVersion.version.desc())
                .limit(1)
            )
            if previous is None:
                raise RegistryError(
                    f"model {name!r} v{current.version} is the first production version; "
                    "there is nothing to roll back to"
                )
            current.stage = "archived"
            current.promoted_at = None  # a second rollback goes further back, not here
            previous.stage = "production"
            session.flush()
            return VersionInfo.of(previous)

    def _row(
        self, session: Session, name: str, version: int, *, for_update: bool = False
    ) -> ModelVersion:
        query = select(ModelVersion).where(
            ModelVersion.name == name, ModelVersion.version == version
        )
        row = session.scalar(query.with_for_update() if for_update else query)
        if row is None:
            versions = self._require_name(session, name)
            raise RegistryError(
                f"model {name!r} has no version {version}; versions: "
                + ", ".join(str(v) for v in versions)
            )
        return row

    def _require_name(self, session: Session, name: str) -> builtins.list[int]:
        versions = builtins.list(
            session.scalars(
                select(ModelVersion.version)
                .where(ModelVersion.name == name)
                .order_by(ModelVersion.version)
            )
        )
        if not versions:
            names = sorted(set(session.scalars(select(ModelVersion.name))))
            raise RegistryError(
                f"no model named {name!r} in the registry; registered: "
                f"{', '.join(names) or 'none'} (add one with `audioclf registry add RUN --name`)"
            )
        return versions


def _check_name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > 200 or any(c in name for c in "/\\ \t\n"):
        raise RegistryError(
            f"invalid model name {name!r}: use 1-200 characters without spaces or slashes"
        )
    return name

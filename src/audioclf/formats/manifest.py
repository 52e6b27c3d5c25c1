"""Manifests: a dataset is a JSON Lines file, one row per clip.

A row has the fixed fields of :class:`Clip` plus free metadata (intensity, statement,
fold, ...), which are stored as top-level keys in the JSON and kept in ``Clip.meta``.
Relative paths in a manifest file are resolved against the folder the manifest is in,
so a corpus folder and its manifest can move together.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from audioclf.formats.atomic import atomic_path

FIELDS = (
    "id",
    "path",
    "label",
    "speaker",
    "gender",
    "duration",
    "sample_rate",
    "channels",
    "corpus",
)
GENDERS = ("female", "male")


class ManifestError(ValueError):
    """A manifest file or row is malformed; the message names the file and line."""


@dataclass(frozen=True)
class Clip:
    """One labelled audio clip."""

    id: str
    path: str
    label: str
    speaker: str | None = None
    gender: str | None = None
    duration: float | None = None
    sample_rate: int | None = None
    channels: int | None = None
    corpus: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The JSON row: fixed fields first, then metadata."""
        row: dict[str, Any] = {name: getattr(self, name) for name in FIELDS}
        row.update(self.meta)
        return row

    @classmethod
    def from_dict(cls, row: dict[str, Any]) -> Clip:
        """Build a clip from a JSON row; unknown keys become metadata."""
        missing = [k for k in ("id", "path", "label") if row.get(k) in (None, "")]
        if missing:
            raise ManifestError(f"row is missing required field(s) {', '.join(missing)}")
        known = {k: row[k] for k in FIELDS if k in row}
        meta = {k: v for k, v in row.items() if k not in FIELDS and k != "meta"}
        if isinstance(row.get("meta"), dict):
            meta.update(row["meta"])
        known["id"] = str(known["id"])
        known["label"] = str(known["label"])
        if known.get("speaker") is not None:
            known["speaker"] = str(known["speaker"])
        gender = known.get("gender")
        if gender is not None and gender not in GENDERS:
            raise ManifestError(f"gender must be one of {GENDERS} or null, got {gender!r}")
        return cls(**known, meta=meta)

    def with_(self, **changes: Any) -> Clip:
        """A copy with some fields changed (``meta`` keys may be given in ``meta=``)."""
        return replace(self, **changes)


class Manifest(Sequence[Clip]):
    """An ordered, immutable list of clips with a few dataset-level helpers."""

    def __init__(self, clips: Iterable[Clip] = ()) -> None:
        self._clips: tuple[Clip, ...] = tuple(clips)

    def __len__(self) -> int:
        return len(self._clips)

    def __getitem__(self, index: int) -> Clip:  # type: ignore[override]
        return self._clips[index]

    def __iter__(self) -> Iterator[Clip]:
        return iter(self._clips)

    def __add__(self, other: Manifest) -> Manifest:
        return Manifest((*self._clips, *other._clips))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Manifest) and self._clips == other._clips

    def __hash__(self) -> int:
        return hash(self._clips)

    def __repr__(self) -> str:
        return f"Manifest({len(self)} clips, {len(self.labels)} labels)"

    @property
    def labels(self) -> list[str]:
        """Sorted distinct labels."""
        return sorted({c.label for c in self._clips})

    @property
    def speakers(self) -> list[str]:
        """Sorted distinct speakers (clips without a speaker are not counted)."""
        return sorted({c.speaker for c in self._clips if c.speaker is not None})

    @property
    def total_duration(self) -> float:
        """Sum of known clip durations, in seconds."""
        return float(sum(c.duration or 0.0 for c in self._clips))

    def label_counts(self) -> Counter[str]:
        return Counter(c.label for c in self._clips)

    def filter(self, keep: Any) -> Manifest:
        """Clips for which ``keep(clip)`` is true."""
        return Manifest(c for c in self._clips if keep(c))

    def validate(self) -> Manifest:
        """Check ids are unique and required fields present; return self."""
        seen: set[str] = set()
        for clip in self._clips:
            if clip.id in seen:
                raise ManifestError(f"duplicate clip id {clip.id!r}")
            seen.add(clip.id)
            if not clip.label:
                raise ManifestError(f"clip {clip.id!r} has an empty label")
        return self


def manifest_line(clip: Clip) -> str:
    """One clip's JSON Lines row, newline included."""
    return json.dumps(clip.to_dict(), ensure_ascii=False) + "\n"


def write_manifest(manifest: Iterable[Clip], path: str | Path) -> Path:
    """Write clips as JSON Lines (UTF-8), creating the parent folder."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp, tmp.open("w", encoding="utf-8") as f:
        for clip in manifest:
            f.write(manifest_line(clip))
    return path


def read_manifest(path: str | Path) -> Manifest:
    """Read a JSON Lines manifest; relative clip paths resolve against its folder."""
    path = Path(path)
    base = path.resolve().parent
    clips: list[Clip] = []
    for lineno, row in json_rows(path):
        try:
            clip = Clip.from_dict(row)
        except (ManifestError, TypeError) as exc:
            raise ManifestError(f"{path}:{lineno}: {exc}") from exc
        if not Path(clip.path).is_absolute():
            clip = clip.with_(path=str(base / clip.path))
        clips.append(clip)
    return Manifest(clips).validate()


def json_rows(path: str | Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """``(line number, object)`` for every non-blank line of a JSON Lines file; a line
    that is not a JSON object raises :class:`ManifestError` naming the file and line."""
    path = Path(path)
    if not path.is_file():
        raise ManifestError(f"{path}: no such manifest file")
    with path.open(encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ManifestError(f"{path}:{lineno}: {exc}") from exc
            if not isinstance(row, dict):
                raise ManifestError(f"{path}:{lineno}: a row must be a JSON object")
            yield lineno, row


def clip_fields() -> list[str]:
    """Names of the fixed fields of a clip (not metadata)."""
    return [f.name for f in fields(Clip) if f.name != "meta"]


@dataclass(frozen=True)
class SkippedFile:
    """A file left out of a manifest, and why (e.g. an :class:`~audioclf.audio.AudioError`)."""

    path: str
    reason: str


def skipped_path(manifest_path: str | Path) -> Path:
    """Where the list of skipped files of a manifest lives: ``NAME.skipped.jsonl`` beside it."""
    path = Path(manifest_path)
    stem = path.name[: -len(".jsonl")] if path.name.endswith(".jsonl") else path.name
    return path.with_name(stem + ".skipped.jsonl")


def write_skipped(skipped: Iterable[SkippedFile], manifest_path: str | Path) -> Path | None:
    """Write the skipped-file list beside a manifest (and remove a stale one when empty)."""
    target = skipped_path(manifest_path)
    rows = list(skipped)
    if not rows:
        target.unlink(missing_ok=True)
        return None
    with target.open("w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps({"path": row.path, "reason": row.reason}, ensure_ascii=False) + "\n")
    return target


def read_skipped(manifest_path: str | Path) -> list[SkippedFile]:
    """The skipped files recorded beside a manifest (empty when there are none)."""
    target = skipped_path(manifest_path)
    if not target.is_file():
        return []
    with target.open(encoding="utf-8") as f:
        return [SkippedFile(**json.loads(line)) for line in f if line.strip()]

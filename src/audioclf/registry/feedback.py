"""Feedback on a logged prediction: the correct label, who gave it, and (with consent)
the clip itself, checked against the prediction's audio hash and kept in the pool as its
decoded samples, within the pool's quota (registry/feedback_pool.py).

Order of writes: the feedback row is inserted and flushed in a transaction, then the clip
and its pool row are written, then the transaction commits. A rejected insert writes no
clip; a commit that fails after the clip was written leaves a clip the registry does not
know, which :func:`sweep_orphans` removes (the server runs it at start-up, retraining
before it reads the pool)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from audioclf.audio import Audio
from audioclf.registry.db import RegistryError
from audioclf.registry.feedback_pool import (
    GRACE_SECONDS,
    PoolFullError,
    PoolQuota,
    add_clip,
    clip_file,
    prune,
)
from audioclf.registry.predictions import audio_hash
from audioclf.registry.tables import FeedbackRow, ModelVersion, PredictionRow, utcnow


class FeedbackError(RegistryError):
    """Feedback that cannot be accepted; ``status`` is the HTTP status to answer with."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class FeedbackResult:
    """What was stored."""

    prediction_id: str
    predicted_label: str
    correct_label: str
    clip_kept: bool


def add_feedback(
    sessions: sessionmaker[Session],
    pool_dir: Path,
    *,
    prediction_id: str,
    correct_label: str,
    who: str = "",
    consent: bool = False,
    clip: bytes | None = None,
    decoded: Audio | None = None,
    client: str = "",
    quota: PoolQuota | None = None,
) -> FeedbackResult:
    """Store a correction; the clip only with ``consent``, only if it is the predicted one
    (``clip``: the bytes sent, hashed; ``decoded``: their samples, what is kept) and only
    within ``quota`` for the pool and for ``client``."""
    if clip is not None and not consent:
        raise FeedbackError(
            "a clip was sent without consent; it was not stored — tick consent or send no file"
        )
    if consent and clip is None:
        raise FeedbackError("consent was given but no clip was sent: attach the clip as `file`")
    with sessions() as session:
        prediction = session.get(PredictionRow, prediction_id)
        if prediction is None:
            raise FeedbackError(f"no prediction with id {prediction_id!r}", 404)
        labels = session.scalar(
            select(ModelVersion.labels).where(
                ModelVersion.name == prediction.model_name,
                ModelVersion.version == prediction.model_version,
            )
        )
        if labels is not None and correct_label not in labels:
            raise FeedbackError(
                f"label {correct_label!r} is not a class of {prediction.model_name}; "
                f"choose one of: {', '.join(labels)}"
            )
        exists = session.scalar(
            select(FeedbackRow.id).where(FeedbackRow.prediction_id == prediction_id)
        )
        if exists is not None:
            raise FeedbackError(f"prediction {prediction_id} already has feedback", 409)
        model_name, predicted = prediction.model_name, prediction.top_label
        expected_hash = prediction.audio_sha256
    if clip is not None:
        if audio_hash(clip) != expected_hash:
            raise FeedbackError(
                "the clip sent is not the one that was classified (its hash differs); "
                "send the same file you sent to /v1/predict"
            )
        if decoded is None:
            raise FeedbackError("the clip could not be decoded", 422)
    clip_path = clip_file(pool_dir, prediction_id) if clip is not None else None
    try:
        with sessions.begin() as session:
            session.add(
                FeedbackRow(
                    prediction_id=prediction_id,
                    correct_label=correct_label,
                    who=who[:200],
                    created=utcnow(),
                    consent=consent,
                    clip_path=str(clip_path) if clip_path else None,
                )
            )
            session.flush()  # a duplicate fails here, before anything is written
            if clip_path is not None and decoded is not None:
                _keep_clip(
                    pool_dir, prediction_id, decoded, correct_label, model_name, client, quota
                )
    except IntegrityError:
        raise FeedbackError(f"prediction {prediction_id} already has feedback", 409) from None
    return FeedbackResult(prediction_id, predicted, correct_label, clip_path is not None)


def _keep_clip(
    pool_dir: Path,
    prediction_id: str,
    decoded: Audio,
    label: str,
    model: str,
    client: str,
    quota: PoolQuota | None,
) -> None:
    """Write the clip and its pool row (inside the feedback's transaction: a full pool
    raises and the insert rolls back)."""
    try:
        add_clip(
            pool_dir,
            prediction_id,
            decoded.samples,
            decoded.sample_rate,
            label,
            model,
            client=client,
            quota=quota,
        )
    except PoolFullError as err:
        raise FeedbackError(str(err), err.status) from None


def sweep_orphans(
    sessions: sessionmaker[Session], pool_dir: Path, *, grace_seconds: float = GRACE_SECONDS
) -> list[str]:
    """Remove pool clips and rows the registry has no feedback for (left by an insert
    that failed after its clip was written); return their prediction ids."""

    def known(ids: Iterable[str]) -> set[str]:
        wanted = list(ids)
        with sessions() as session:
            rows = session.scalars(
                select(FeedbackRow.prediction_id).where(
                    FeedbackRow.prediction_id.in_(wanted), FeedbackRow.clip_path.is_not(None)
                )
            )
            return set(rows)

    return prune(pool_dir, known, grace_seconds=grace_seconds)

"""The prediction log: one row per served prediction, written by a background thread.

``record`` only puts rows on a queue, so a request never waits for the database; one
writer thread inserts them in batches. ``flush`` waits until everything queued so far
is written (the feedback endpoint calls it before looking a prediction up). Rows hold a
SHA-256 of the uploaded bytes, never the audio.
"""

from __future__ import annotations

import hashlib
import logging
import queue
import threading
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from audioclf.registry.tables import PredictionRow, utcnow

log = logging.getLogger("audioclf.registry")

MAX_BATCH = 256


def audio_hash(data: bytes) -> str:
    """The hex SHA-256 of the uploaded bytes: lets feedback prove it sends the same clip."""
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class PredictionRecord:
    """What is kept of one prediction."""

    id: str
    model_name: str
    model_version: int
    top_label: str
    probabilities: dict[str, float]
    latency_ms: float
    audio_sha256: str
    created: datetime = field(default_factory=utcnow)


class _Flush:
    def __init__(self) -> None:
        self.done = threading.Event()


class PredictionLog:
    """Asynchronous, batched writer of :class:`PredictionRecord` rows."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions
        self._queue: queue.Queue[PredictionRecord | _Flush | None] = queue.Queue()
        self._thread = threading.Thread(target=self._work, name="prediction log", daemon=True)
        self._thread.start()
        self.failures = 0

    def record(self, rows: list[PredictionRecord]) -> None:
        """Queue rows for writing; returns at once."""
        for row in rows:
            self._queue.put(row)

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until every row queued before this call is written; False on timeout."""
        marker = _Flush()
        self._queue.put(marker)
        return marker.done.wait(timeout)

    def close(self, timeout: float = 10.0) -> None:
        """Write what is queued and stop the writer."""
        self._queue.put(None)
        self._thread.join(timeout)

    def _work(self) -> None:
        while True:
            item = self._queue.get()
            batch: list[PredictionRecord] = []
            markers: list[_Flush] = []
            stop = False
            while True:
                if item is None:
                    stop = True
                elif isinstance(item, _Flush):
                    markers.append(item)
                else:
                    batch.append(item)
                if stop or len(batch) >= MAX_BATCH:
                    break
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
            if batch:
                self._write(batch)
            for marker in markers:
                marker.done.set()
            if stop:
                return

    def _write(self, batch: list[PredictionRecord]) -> None:
        try:
            with self.sessions.begin() as session:
                session.add_all(
                    PredictionRow(
                        id=r.id,
                        created=r.created,
                        model_name=r.model_name,
                        model_version=r.model_version,
                        top_label=r.top_label,
                        probabilities=r.probabilities,
                        latency_ms=r.latency_ms,
                        audio_sha256=r.audio_sha256,
                    )
                    for r in batch
                )
        except Exception:  # the log must never take the service down
            self.failures += len(batch)
            log.exception("could not write %d prediction rows", len(batch))

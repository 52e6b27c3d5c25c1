"""Per-session speaker statistics for speaker-normalised models, kept in memory only.

A run trained with ``speaker_norm`` standardises every feature with the mean and standard
deviation over one speaker's clips (:mod:`audioclf.features.speaker_norm`). A client that
sends several clips of one speaker names them with a session id
(``POST /v1/predict?session=ID``); for each speaker-normalised model the server folds
each clip's feature vector into that session's running mean and variance
(:class:`~audioclf.features.speaker_norm.RunningStats`) and, once the session has
``min_clips`` clips, standardises the clip with them — the clip itself included, as
``audioclf evaluate`` does over a speaker's clips. Before that, and without a session
id, the training clips' statistics are used.

What is kept: per session and model a clip count and two float vectors (mean and sum of
squared deviations) of the model's feature size, and the time of last use. Never audio,
never the clips' vectors, nothing on disk, nothing in the logs. Sessions are bounded:
at most ``max_sessions`` (the least recently used goes first), each dropped after
``ttl_seconds`` without a request. Everything is touched from the event loop only, so no
lock is needed.
"""

from __future__ import annotations

import re
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from audioclf.features.speaker_norm import NormStats, RunningStats

SESSION_ID = re.compile(r"[A-Za-z0-9._~-]{1,64}")
"""A session id: 1 to 64 letters, digits or ``. _ ~ -`` (an opaque token a client makes)."""


class SessionIdError(ValueError):
    """A session id that is not :data:`SESSION_ID`."""


def check_session_id(value: str) -> str:
    """``value`` when it is a valid session id; else :class:`SessionIdError` saying why."""
    if not SESSION_ID.fullmatch(value):
        raise SessionIdError(
            "session must be 1 to 64 characters of letters, digits and . _ ~ - "
            f"(got {len(value)} characters)"
        )
    return value


@dataclass(frozen=True)
class Normalised:
    """How one clip was standardised: with the ``session``'s own statistics or the
    ``training`` clips', and how many clips the session has (None: no session)."""

    statistics: Literal["session", "training"]
    session_clips: int | None


@dataclass
class _Session:
    models: dict[str, RunningStats] = field(default_factory=dict)
    last_used: float = 0.0


class SessionStore:
    """Running feature statistics per session and model, bounded in number and age."""

    def __init__(
        self,
        *,
        max_sessions: int = 1000,
        ttl_seconds: float = 1800.0,
        min_clips: int = 5,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_sessions < 1 or ttl_seconds <= 0 or min_clips < 2:
            raise ValueError("max_sessions ≥ 1, ttl_seconds > 0 and min_clips ≥ 2 are needed")
        self.max_sessions = max_sessions
        self.ttl_seconds = ttl_seconds
        self.min_clips = min_clips
        self._clock = clock
        self._sessions: OrderedDict[str, _Session] = OrderedDict()

    def __len__(self) -> int:
        self._expire(self._clock())
        return len(self._sessions)

    def __contains__(self, session_id: object) -> bool:
        self._expire(self._clock())
        return session_id in self._sessions

    def clips(self, session_id: str, model: str) -> int:
        """Clips the session has folded in for ``model`` (0 when none or expired)."""
        self._expire(self._clock())
        session = self._sessions.get(session_id)
        stats = session.models.get(model) if session else None
        return stats.count if stats else 0

    def standardise(
        self, session_id: str | None, model: str, row: np.ndarray, training: NormStats
    ) -> tuple[np.ndarray, Normalised]:
        """One clip's feature vector ``row`` standardised for ``model``: folded into the
        session's statistics first, then standardised with them once the session has
        :attr:`min_clips` clips, else with the ``training`` statistics. ``(1, dim)``."""
        x = np.asarray(row, dtype=np.float64).reshape(1, -1)
        if session_id is None:
            return training.apply(x), Normalised("training", None)
        stats = self._stats(session_id, model, x.shape[1])
        stats.add(x[0])
        if stats.count < self.min_clips:
            return training.apply(x), Normalised("training", stats.count)
        return stats.stats().apply(x), Normalised("session", stats.count)

    def _stats(self, session_id: str, model: str, dim: int) -> RunningStats:
        """The session's statistics for ``model`` (new ones for a new session, or when
        the model's feature size changed with a reload)."""
        now = self._clock()
        self._expire(now)
        session = self._sessions.pop(session_id, None) or _Session()
        session.last_used = now
        self._sessions[session_id] = session  # most recently used last
        while len(self._sessions) > self.max_sessions:
            self._sessions.popitem(last=False)
        stats = session.models.get(model)
        if stats is None or stats.mean.shape != (dim,):
            stats = session.models[model] = RunningStats(dim)
        return stats

    def _expire(self, now: float) -> None:
        """Drop the sessions idle for longer than :attr:`ttl_seconds` (oldest first)."""
        while self._sessions:
            oldest = next(iter(self._sessions.values()))
            if now - oldest.last_used <= self.ttl_seconds:
                break
            self._sessions.popitem(last=False)

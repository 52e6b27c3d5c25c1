from __future__ import annotations

import pytest
from sqlalchemy import update

from audioclf.registry.db import session_factory
from audioclf.registry.lock import Lease, LockHeldError
from audioclf.registry.tables import LockRow, utcnow


def test_second_holder_is_refused_until_release(db_url: str) -> None:
    first = Lease(session_factory(db_url), "retrain:m")
    other_process = Lease(session_factory(db_url), "retrain:m")
    with first:
        with pytest.raises(LockHeldError, match="already running"):
            other_process.acquire()
        with Lease(session_factory(db_url), "retrain:other"):
            pass  # another name is independent
    with other_process:
        pass


def test_an_expired_lease_of_a_crashed_holder_is_taken_over(db_url: str) -> None:
    sessions = session_factory(db_url)
    crashed = Lease(sessions, "retrain:m")
    crashed.acquire()
    crashed._stop.set()  # the holder dies: no renewal, no release
    with sessions.begin() as s:
        s.execute(update(LockRow).values(expires_at=utcnow().replace(year=2000)))
    with Lease(sessions, "retrain:m") as new, sessions() as s:
        row = s.get(LockRow, "retrain:m")
        assert row is not None and row.holder == new.holder

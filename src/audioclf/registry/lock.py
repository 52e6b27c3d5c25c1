"""A lease lock in the registry database: one holder per job name, across processes
and machines.

Why a table and not ``flock`` or ``pg_advisory_lock``: a file lock only covers one
machine, and advisory locks exist on PostgreSQL but not SQLite. A row works on both: it
is taken by an INSERT (the primary key refuses a second one) or by a conditional UPDATE
of an expired lease, both atomic in either database. The holder renews the lease from a
background thread; a holder that crashed stops renewing and its lease expires, so a cron
job is never blocked forever by a dead one.
"""

from __future__ import annotations

import os
import socket
import threading
import uuid
from datetime import timedelta
from types import TracebackType
from typing import cast

from sqlalchemy import CursorResult, delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from audioclf.registry.db import RegistryError
from audioclf.registry.tables import LockRow, utcnow


class LockHeldError(RegistryError):
    """Another process holds the lock."""


class Lease:
    """``with Lease(sessions, "retrain:emotion"):`` — refused with :class:`LockHeldError`."""

    def __init__(
        self, sessions: sessionmaker[Session], name: str, *, ttl_seconds: float = 600.0
    ) -> None:
        self.sessions = sessions
        self.name = name
        self.ttl = timedelta(seconds=ttl_seconds)
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._stop = threading.Event()
        self._renewer: threading.Thread | None = None

    def acquire(self) -> None:
        """Take the lease or raise :class:`LockHeldError` naming the holder."""
        now = utcnow()
        try:
            with self.sessions.begin() as session:
                session.add(
                    LockRow(
                        name=self.name,
                        holder=self.holder,
                        acquired_at=now,
                        expires_at=now + self.ttl,
                    )
                )
        except IntegrityError:
            with self.sessions.begin() as session:
                result = session.execute(
                    update(LockRow)
                    .where(LockRow.name == self.name, LockRow.expires_at < now)
                    .values(holder=self.holder, acquired_at=now, expires_at=now + self.ttl)
                )
                taken = cast(CursorResult[object], result).rowcount
            if taken != 1:
                with self.sessions() as session:
                    row = session.scalar(select(LockRow).where(LockRow.name == self.name))
                who = f"{row.holder} since {row.acquired_at:%Y-%m-%d %H:%M:%S} UTC" if row else "?"
                raise LockHeldError(
                    f"{self.name} is already running ({who}); wait for it to finish "
                    "(a crashed holder's lock expires by itself)"
                ) from None
        self._stop.clear()
        self._renewer = threading.Thread(target=self._renew, name=f"lease {self.name}", daemon=True)
        self._renewer.start()

    def _renew(self) -> None:
        while not self._stop.wait(self.ttl.total_seconds() / 3):
            with self.sessions.begin() as session:
                session.execute(
                    update(LockRow)
                    .where(LockRow.name == self.name, LockRow.holder == self.holder)
                    .values(expires_at=utcnow() + self.ttl)
                )

    def release(self) -> None:
        """Give the lease back (only if it is still ours)."""
        self._stop.set()
        if self._renewer is not None:
            self._renewer.join()
            self._renewer = None
        with self.sessions.begin() as session:
            session.execute(
                delete(LockRow).where(LockRow.name == self.name, LockRow.holder == self.holder)
            )

    def __enter__(self) -> Lease:
        self.acquire()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()

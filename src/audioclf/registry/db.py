"""Connecting to the registry database and bringing its schema up to date.

SQLite file by default (``audioclf.db`` in the working folder); ``AUDIOCLF_DB_URL`` (or an
explicit URL) switches to any SQLAlchemy URL, e.g.
``postgresql+psycopg://user:pass@host/db`` (install the ``postgres`` extra). The schema
is created and upgraded by the Alembic migrations shipped in this package, run
programmatically by :func:`upgrade` — the CLI and the server call it at start, so there is
no separate migration step to forget.
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

DB_URL_ENV = "AUDIOCLF_DB_URL"
DEFAULT_URL = "sqlite:///audioclf.db"
MIGRATIONS = Path(__file__).parent / "migrations"
HEAD = "head"


class RegistryError(ValueError):
    """A registry operation that cannot be done; the message says why and what to do."""


def database_url(url: str | None = None) -> str:
    """``url``, else ``$AUDIOCLF_DB_URL``, else the SQLite file ``audioclf.db`` here."""
    return url or os.environ.get(DB_URL_ENV) or DEFAULT_URL


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")  # readers do not block the prediction writer
    cursor.close()


@cache
def make_engine(url: str) -> Engine:
    """One engine per URL and process (engines hold the connection pool)."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True)


def alembic_config() -> Config:
    """The Alembic configuration of the shipped migrations (no alembic.ini needed)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def upgrade(url: str | None = None, revision: str = HEAD) -> str:
    """Create or upgrade the schema at ``url`` to ``revision``; return the URL used."""
    url = database_url(url)
    try:
        engine = make_engine(url)
    except Exception as exc:  # bad URL or missing driver
        raise RegistryError(
            f"cannot open the registry database {_safe(url)}: {exc}; check {DB_URL_ENV} "
            "(PostgreSQL needs `pip install 'audioclf[postgres]'`)"
        ) from None
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
    return url


def current_revision(url: str | None = None) -> str | None:
    """The schema revision the database is at (None when it has no schema yet)."""
    from alembic.runtime.migration import MigrationContext

    with make_engine(database_url(url)).connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def session_factory(url: str | None = None, *, migrate: bool = True) -> sessionmaker[Session]:
    """Sessions on the registry database, upgrading its schema first (``migrate``)."""
    url = upgrade(url) if migrate else database_url(url)
    return sessionmaker(make_engine(url), expire_on_commit=False)


def _safe(url: str) -> str:
    """The URL without its password, for messages."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "(unparsable URL)"

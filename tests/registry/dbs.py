"""Temporary registry databases: a SQLite file, and a fresh PostgreSQL database per test
when ``AUDIOCLF_TEST_PG_URL`` points at a server (the same tests run on both)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

PG_ENV = "AUDIOCLF_TEST_PG_URL"
BACKENDS = [
    "sqlite",
    pytest.param(
        "postgresql",
        # a string condition: evaluated when the test runs, after tests/conftest.py has
        # started a throwaway cluster and set the URL
        marks=pytest.mark.skipif(
            f"not os.environ.get({PG_ENV!r})",
            reason=f"{PG_ENV} is not set and no PostgreSQL server binaries were found",
        ),
    ),
]


def temporary_db(backend: str, tmp_path: Path) -> Iterator[str]:
    """Yield the URL of an empty database on ``backend``; drop it afterwards."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'registry.db'}"
        return
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from audioclf.registry.db import make_engine

    admin_url = make_url(os.environ[PG_ENV])
    name = f"audioclf_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = admin_url.set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        make_engine(url).dispose()
        make_engine.cache_clear()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from audioclf.registry.db import current_revision, make_engine, upgrade
from audioclf.registry.tables import Base


def test_upgrade_creates_the_schema_on_an_empty_database(db_url: str) -> None:
    assert current_revision(db_url) is None
    upgrade(db_url)
    assert current_revision(db_url) == "0003"
    tables = set(inspect(make_engine(db_url)).get_table_names())
    assert {"models", "predictions", "feedback", "locks", "alembic_version"} <= tables
    with make_engine(db_url).connect() as conn:  # the ORM matches the migrations
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
    upgrade(db_url)  # idempotent
    assert current_revision(db_url) == "0003"


def test_upgrade_keeps_data_of_the_previous_schema(db_url: str) -> None:
    upgrade(db_url, "0001")
    assert "feedback" not in inspect(make_engine(db_url)).get_table_names()
    created = datetime(2026, 1, 2, tzinfo=UTC)
    with make_engine(db_url).begin() as conn:
        for version, stage in ((1, "archived"), (2, "production")):
            conn.execute(
                text(
                    "INSERT INTO models (name, version, run_dir, task, labels, metrics, created,"
                    " stage) VALUES ('m', :v, '/runs/x', '', '[\"a\", \"b\"]', '{}', :c, :s)"
                ),
                {"v": version, "c": created, "s": stage},
            )
        conn.execute(
            text(
                "INSERT INTO predictions VALUES ('p1', :c, 'm', 2, 'a', '{\"a\": 0.9}', 3.5, 'abc')"
            ),
            {"c": created},
        )
    upgrade(db_url)
    from audioclf.registry import Registry, RegistryError

    reg = Registry(db_url)
    assert reg.production("m").version == 2
    assert reg.production("m").promoted_at is not None  # backfilled for rollback
    with pytest.raises(RegistryError, match="nothing to roll back"):
        reg.rollback("m")  # v1 was archived before promotions were timed
    with make_engine(db_url).connect() as conn:
        assert conn.execute(text("SELECT top_label FROM predictions")).scalar() == "a"

"""Alembic environment: runs on the connection handed over by ``audioclf.registry.db``."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from audioclf.registry.tables import Base


def run_migrations(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # ALTER support on SQLite
    )
    with context.begin_transaction():
        context.run_migrations()


_connection = context.config.attributes.get("connection")
if _connection is None:
    raise RuntimeError("run migrations through audioclf.registry.db.upgrade()")
run_migrations(_connection)

"""Alembic environment: runs the same migrations on the station's SQLite and on PostgreSQL."""

from __future__ import annotations

from alembic import context

from app.store.models import Base, CentralBase

config = context.config
connection = config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through app.store.migrate, which passes a connection")

# The central-only tables exist on PostgreSQL alone (see migration 0004).
central = connection.dialect.name == "postgresql"
context.configure(
    connection=connection,
    target_metadata=[Base.metadata, CentralBase.metadata] if central else Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()

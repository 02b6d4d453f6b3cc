"""sync deferred: feed rows a station held back behind its own pending operations

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28 12:00:00.000000

A pulled feed row for an entity the station has an uncovered operation on is not applied (the
pull never hides a pending local change). The newest such row per entity is kept here, so it
is applied once the operation's result covers it, even when the operation changed nothing
centrally and the entity is not written to the feed again.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sync_deferred",
        sa.Column("entity", sa.String(30), nullable=False),
        sa.Column("entity_id", sa.Uuid(), nullable=False),
        sa.Column("pos", sa.BigInteger(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("entity", "entity_id", name=op.f("pk_sync_deferred")),
    )


def downgrade() -> None:
    op.drop_table("sync_deferred")

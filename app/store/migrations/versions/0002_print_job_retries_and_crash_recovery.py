"""print job retries and crash recovery

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 23:43:51.880967
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.store.types

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("print_job", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("next_attempt_at", app.store.types.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("sending_since", app.store.types.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("possible_duplicate", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(sa.Column("reprint_of", sa.Uuid(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("print_job", schema=None) as batch_op:
        batch_op.drop_column("reprint_of")
        batch_op.drop_column("possible_duplicate")
        batch_op.drop_column("sending_since")
        batch_op.drop_column("next_attempt_at")

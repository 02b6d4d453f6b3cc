"""sync: outbox results, sync state, exception tasks, order claims; central inbox and feed

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28 09:00:00.000000

The central-only tables (inbox, op_result, station_progress, feed_head, change_log,
entity_version, station_account) are created only on PostgreSQL: a station's SQLite has
none of them.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import app.store.types

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TS = app.store.types.UTCDateTime(timezone=True)


def _central() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as b:
        b.add_column(sa.Column("entity", sa.String(30), nullable=False, server_default=""))
        b.add_column(sa.Column("entity_id", sa.Uuid(), nullable=True))
        b.add_column(sa.Column("result", sa.String(10), nullable=True))
        b.add_column(sa.Column("reason", sa.Text(), nullable=True))
        b.add_column(sa.Column("result_pos", sa.BigInteger(), nullable=True))
        b.add_column(sa.Column("acknowledged_at", _TS, nullable=True))
    with op.batch_alter_table("sales_order", schema=None) as b:
        b.add_column(sa.Column("claimed_by_station", sa.Uuid(), nullable=True))
        b.add_column(sa.Column("claimed_by_operator", sa.String(100), nullable=True))
        b.add_column(sa.Column("claimed_at", _TS, nullable=True))
    op.create_table(
        "sync_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cursor", sa.BigInteger(), nullable=False),
        sa.Column("last_push_at", _TS, nullable=True),
        sa.Column("last_pull_at", _TS, nullable=True),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.Column("bootstrapped_at", _TS, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_state")),
    )
    op.create_table(
        "exception_task",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("warehouse_id", sa.Uuid(), nullable=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("entity", sa.String(30), nullable=False),
        sa.Column("entity_id", sa.Uuid(), nullable=True),
        sa.Column("op_id", sa.Uuid(), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("raised_at", _TS, nullable=False),
        sa.Column("resolved_at", _TS, nullable=True),
        sa.Column("resolved_by", sa.String(100), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exception_task")),
        sa.UniqueConstraint("kind", "op_id", name=op.f("uq_exception_task_kind")),
    )
    with op.batch_alter_table("exception_task", schema=None) as b:
        b.create_index(b.f("ix_exception_task_status"), ["status"], unique=False)
        b.create_index(b.f("ix_exception_task_warehouse_id"), ["warehouse_id"], unique=False)
    if _central():
        _create_central()


def _create_central() -> None:
    jsonb = postgresql.JSONB(astext_type=sa.Text())
    op.create_table(
        "inbox",
        sa.Column("op_id", sa.Uuid(), nullable=False),
        sa.Column("station_id", sa.Uuid(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("payload", jsonb, nullable=False),
        sa.Column("entity", sa.String(30), nullable=False),
        sa.Column("entity_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("received_at", _TS, server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("op_id", name=op.f("pk_inbox")),
        sa.UniqueConstraint("station_id", "seq", name=op.f("uq_inbox_station_id")),
    )
    op.create_table(
        "op_result",
        sa.Column("op_id", sa.Uuid(), nullable=False),
        sa.Column("station_id", sa.Uuid(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("result", sa.String(10), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("pos", sa.BigInteger(), nullable=False),
        sa.Column("applied_at", _TS, server_default=sa.func.now(), nullable=False),
        sa.ForeignKeyConstraint(["op_id"], ["inbox.op_id"], name=op.f("fk_op_result_op_id_inbox")),
        sa.PrimaryKeyConstraint("op_id", name=op.f("pk_op_result")),
    )
    op.create_index("ix_op_result_station_seq", "op_result", ["station_id", "seq"])
    op.create_table(
        "station_progress",
        sa.Column("station_id", sa.Uuid(), nullable=False),
        sa.Column("applied_seq", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("station_id", name=op.f("pk_station_progress")),
    )
    op.create_table(
        "feed_head",
        sa.Column("warehouse_id", sa.Uuid(), nullable=False),
        sa.Column("next", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("warehouse_id", name=op.f("pk_feed_head")),
    )
    op.create_table(
        "change_log",
        sa.Column("warehouse_id", sa.Uuid(), nullable=False),
        sa.Column("pos", sa.BigInteger(), nullable=False),
        sa.Column("entity", sa.String(30), nullable=False),
        sa.Column("entity_id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("op_id", sa.Uuid(), nullable=True),
        sa.Column("payload", jsonb, nullable=True),
        sa.PrimaryKeyConstraint("warehouse_id", "pos", name=op.f("pk_change_log")),
    )
    op.create_table(
        "entity_version",
        sa.Column("entity", sa.String(30), nullable=False),
        sa.Column("entity_id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("entity", "entity_id", name=op.f("pk_entity_version")),
    )
    op.create_table(
        "station_account",
        sa.Column("role_name", sa.String(63), nullable=False),
        sa.Column("station_id", sa.Uuid(), nullable=False),
        sa.Column("warehouse_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", _TS, server_default=sa.func.now(), nullable=False),
        sa.Column("revoked_at", _TS, nullable=True),
        sa.PrimaryKeyConstraint("role_name", name=op.f("pk_station_account")),
        sa.UniqueConstraint("station_id", name=op.f("uq_station_account_station_id")),
    )


def downgrade() -> None:
    if _central():
        for table in (
            "station_account",
            "entity_version",
            "change_log",
            "feed_head",
            "station_progress",
            "op_result",
            "inbox",
        ):
            op.drop_table(table)
    with op.batch_alter_table("exception_task", schema=None) as b:
        b.drop_index(b.f("ix_exception_task_warehouse_id"))
        b.drop_index(b.f("ix_exception_task_status"))
    op.drop_table("exception_task")
    op.drop_table("sync_state")
    with op.batch_alter_table("sales_order", schema=None) as b:
        b.drop_column("claimed_at")
        b.drop_column("claimed_by_operator")
        b.drop_column("claimed_by_station")
    with op.batch_alter_table("outbox", schema=None) as b:
        b.drop_column("acknowledged_at")
        b.drop_column("result_pos")
        b.drop_column("reason")
        b.drop_column("result")
        b.drop_column("entity_id")
        b.drop_column("entity")

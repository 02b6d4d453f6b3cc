"""picking: pick lists and allocations, lots on the ledger, order priority and cut-off

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 09:00:00.000000

An allocation is the reservation of units of an order line at one bin (and lot) and the stop
a picker walks to; a pick list holds its allocations. The stock ledger gains the lot and its
expiry (FEFO allocation reads them); orders gain a priority and the carrier cut-off time.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.store.types

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TS = app.store.types.UTCDateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("stock_movement", schema=None) as b:
        b.add_column(sa.Column("lot", sa.String(40), nullable=True))
        b.add_column(sa.Column("expiry", sa.String(10), nullable=True))
    with op.batch_alter_table("sales_order", schema=None) as b:
        b.add_column(sa.Column("priority", sa.Integer(), nullable=False, server_default="0"))
        b.add_column(sa.Column("cutoff_at", _TS, nullable=True))
    op.create_table(
        "pick_list",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.String(20), nullable=False),
        sa.Column("warehouse_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("wave", sa.String(40), nullable=False),
        sa.Column("zone", sa.String(20), nullable=False),
        sa.Column("picker_id", sa.Uuid(), nullable=True),
        sa.Column("picker_name", sa.String(100), nullable=False),
        sa.Column("picker_station", sa.Uuid(), nullable=True),
        sa.Column("totes", sa.JSON(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("created_by", sa.String(100), nullable=False),
        sa.Column("station_id", sa.Uuid(), nullable=True),
        sa.Column("started_at", _TS, nullable=True),
        sa.Column("finished_at", _TS, nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["warehouse_id"], ["warehouse.id"], name=op.f("fk_pick_list_warehouse_id_warehouse")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pick_list")),
        sa.UniqueConstraint("number", name=op.f("uq_pick_list_number")),
    )
    op.create_index(op.f("ix_pick_list_status"), "pick_list", ["status"])
    op.create_table(
        "allocation",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("pick_list_id", sa.Uuid(), nullable=False),
        sa.Column("order_id", sa.Uuid(), nullable=False),
        sa.Column("order_line_id", sa.Uuid(), nullable=False),
        sa.Column("product_id", sa.Uuid(), nullable=False),
        sa.Column("location_id", sa.Uuid(), nullable=False),
        sa.Column("lot", sa.String(40), nullable=True),
        sa.Column("expiry", sa.String(10), nullable=True),
        sa.Column("qty", sa.Integer(), nullable=False),
        sa.Column("picked", sa.Integer(), nullable=False),
        sa.Column("short", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("slot", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("tote_code", sa.String(40), nullable=True),
        sa.Column("picked_at", _TS, nullable=True),
        sa.Column("picked_by", sa.String(100), nullable=False),
        sa.ForeignKeyConstraint(
            ["pick_list_id"], ["pick_list.id"], name=op.f("fk_allocation_pick_list_id_pick_list")
        ),
        sa.ForeignKeyConstraint(
            ["product_id"], ["product.id"], name=op.f("fk_allocation_product_id_product")
        ),
        sa.ForeignKeyConstraint(
            ["location_id"], ["location.id"], name=op.f("fk_allocation_location_id_location")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_allocation")),
    )
    op.create_index(op.f("ix_allocation_pick_list_id"), "allocation", ["pick_list_id"])
    op.create_index(op.f("ix_allocation_order_id"), "allocation", ["order_id"])
    op.create_index(op.f("ix_allocation_tote_code"), "allocation", ["tote_code"])
    op.create_index("ix_allocation_product_location", "allocation", ["product_id", "location_id"])


def downgrade() -> None:
    op.drop_table("allocation")
    op.drop_table("pick_list")
    with op.batch_alter_table("sales_order", schema=None) as b:
        b.drop_column("cutoff_at")
        b.drop_column("priority")
    with op.batch_alter_table("stock_movement", schema=None) as b:
        b.drop_column("expiry")
        b.drop_column("lot")

"""returns desk: policy, RMAs and their lines, received units, refunds, customer notifications

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-09 09:00:00.000000

Also indexes the two columns the desk finds an order by when a parcel comes without its slip:
a package's tracking number and SSCC, and a packed unit's serial number.
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

import app.store.types

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TS = app.store.types.UTCDateTime(timezone=True)


def _id() -> "sa.Column[Any]":
    return sa.Column("id", sa.Uuid(), nullable=False)


def upgrade() -> None:
    op.create_table(
        "return_policy",
        _id(),
        sa.Column("company_id", sa.Uuid(), nullable=True),
        sa.Column("window_days", sa.Integer(), nullable=False),
        sa.Column("free_reasons", sa.JSON(), nullable=False),
        sa.Column("restocking_fee_bp", sa.Integer(), nullable=False),
        sa.Column("restocking_fee_minor", sa.BigInteger(), nullable=False),
        sa.Column("refund_shipping", sa.Boolean(), nullable=False),
        sa.Column("deductions_bp", sa.JSON(), nullable=False),
        sa.Column("updated_at", _TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_return_policy")),
    )
    op.create_table(
        "rma",
        _id(),
        sa.Column("number", sa.String(40), nullable=False),
        sa.Column("order_id", sa.Uuid(), nullable=False),
        sa.Column("customer_id", sa.Uuid(), nullable=True),
        sa.Column("warehouse_id", sa.Uuid(), nullable=True),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("requested", sa.String(12), nullable=False),
        sa.Column("unannounced", sa.Boolean(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("shipping_paid_minor", sa.BigInteger(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("created_by", sa.String(100), nullable=False),
        sa.Column("station_id", sa.Uuid(), nullable=True),
        sa.Column("late_approved_by", sa.String(100), nullable=True),
        sa.Column("received_at", _TS, nullable=True),
        sa.Column("received_station", sa.Uuid(), nullable=True),
        sa.Column("received_op", sa.Uuid(), nullable=True),
        sa.Column("resolved_at", _TS, nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rma")),
        sa.UniqueConstraint("number", name=op.f("uq_rma_number")),
    )
    op.create_index(op.f("ix_rma_order_id"), "rma", ["order_id"])
    op.create_index(op.f("ix_rma_warehouse_id"), "rma", ["warehouse_id"])
    op.create_index(op.f("ix_rma_status"), "rma", ["status"])
    op.create_table(
        "rma_line",
        _id(),
        sa.Column("rma_id", sa.Uuid(), nullable=False),
        sa.Column("warehouse_id", sa.Uuid(), nullable=True),
        sa.Column("order_line_id", sa.Uuid(), nullable=True),
        sa.Column("product_id", sa.Uuid(), nullable=False),
        sa.Column("qty", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(20), nullable=False),
        sa.Column("unit_price_minor", sa.BigInteger(), nullable=False),
        sa.Column("qty_received", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["rma_id"], ["rma.id"], name=op.f("fk_rma_line_rma_id_rma")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rma_line")),
    )
    op.create_index(op.f("ix_rma_line_rma_id"), "rma_line", ["rma_id"])
    op.create_table(
        "return_unit",
        _id(),
        sa.Column("rma_id", sa.Uuid(), nullable=False),
        sa.Column("warehouse_id", sa.Uuid(), nullable=True),
        sa.Column("rma_line_id", sa.Uuid(), nullable=True),
        sa.Column("product_id", sa.Uuid(), nullable=False),
        sa.Column("serial", sa.String(40), nullable=True),
        sa.Column("condition", sa.String(20), nullable=False),
        sa.Column("disposition", sa.String(20), nullable=False),
        sa.Column("location_id", sa.Uuid(), nullable=True),
        sa.Column("photos", sa.JSON(), nullable=False),
        sa.Column("unexpected", sa.Boolean(), nullable=False),
        sa.Column("received_at", _TS, nullable=False),
        sa.Column("station_id", sa.Uuid(), nullable=True),
        sa.Column("operator", sa.String(100), nullable=False),
        sa.ForeignKeyConstraint(["rma_id"], ["rma.id"], name=op.f("fk_return_unit_rma_id_rma")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_return_unit")),
    )
    op.create_index(op.f("ix_return_unit_rma_id"), "return_unit", ["rma_id"])
    op.create_table(
        "return_refund",
        _id(),
        sa.Column("rma_id", sa.Uuid(), nullable=False),
        sa.Column("warehouse_id", sa.Uuid(), nullable=True),
        sa.Column("resolution", sa.String(12), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("state", sa.String(12), nullable=False),
        sa.Column("breakdown", sa.JSON(), nullable=False),
        sa.Column("store_credit_account", sa.String(40), nullable=True),
        sa.Column("exchange_order_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("station_id", sa.Uuid(), nullable=True),
        sa.Column("operator", sa.String(100), nullable=False),
        sa.ForeignKeyConstraint(["rma_id"], ["rma.id"], name=op.f("fk_return_refund_rma_id_rma")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_return_refund")),
    )
    op.create_index(op.f("ix_return_refund_rma_id"), "return_refund", ["rma_id"])
    op.create_table(
        "customer_notification",
        _id(),
        sa.Column("customer_id", sa.Uuid(), nullable=True),
        sa.Column("rma_id", sa.Uuid(), nullable=True),
        sa.Column("kind", sa.String(30), nullable=False),
        sa.Column("subject", sa.String(200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customer_notification")),
    )
    op.create_index(
        op.f("ix_customer_notification_customer_id"), "customer_notification", ["customer_id"]
    )
    op.create_index("ix_package_tracking_number", "package", ["tracking_number"])
    op.create_index("ix_package_sscc", "package", ["sscc"])
    op.create_index("ix_packed_unit_serial", "packed_unit", ["serial"])


def downgrade() -> None:
    op.drop_index("ix_packed_unit_serial", table_name="packed_unit")
    op.drop_index("ix_package_sscc", table_name="package")
    op.drop_index("ix_package_tracking_number", table_name="package")
    for table in ("customer_notification", "return_refund", "return_unit", "rma_line", "rma"):
        op.drop_table(table)
    op.drop_table("return_policy")

"""shop counter: sales, tenders, cash sessions, store credit; tax rates; receipt numbers

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27 01:12:03.954933
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.store.types

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "cash_session",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("station_id", sa.Uuid(), nullable=False),
        sa.Column("operator_id", sa.Uuid(), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("opened_at", app.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("opening_float_minor", sa.BigInteger(), nullable=False),
        sa.Column("float_count", sa.JSON(), nullable=False),
        sa.Column("closed_at", app.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("closed_by", sa.Uuid(), nullable=True),
        sa.Column("counted_minor", sa.BigInteger(), nullable=True),
        sa.Column("count", sa.JSON(), nullable=False),
        sa.Column("expected_minor", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cash_session")),
    )
    with op.batch_alter_table("cash_session", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_cash_session_station_id"), ["station_id"], unique=False
        )

    op.create_table(
        "store_credit_entry",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("account", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("sale_id", sa.Uuid(), nullable=True),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("at", app.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("station_id", sa.Uuid(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_store_credit_entry")),
    )
    with op.batch_alter_table("store_credit_entry", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_store_credit_entry_account"), ["account"], unique=False
        )

    op.create_table(
        "cash_movement",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("session_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=4), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("at", app.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("operator_id", sa.Uuid(), nullable=True),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["cash_session.id"],
            name=op.f("fk_cash_movement_session_id_cash_session"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cash_movement")),
    )
    with op.batch_alter_table("cash_movement", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_cash_movement_session_id"), ["session_id"], unique=False
        )

    op.create_table(
        "counter_sale",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("number", sa.String(length=40), nullable=True),
        sa.Column("station_id", sa.Uuid(), nullable=False),
        sa.Column("session_id", sa.Uuid(), nullable=True),
        sa.Column("operator_id", sa.Uuid(), nullable=True),
        sa.Column("customer_id", sa.Uuid(), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("basis", sa.String(length=10), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("basket_discount_bp", sa.Integer(), nullable=False),
        sa.Column("basket_discount_minor", sa.BigInteger(), nullable=False),
        sa.Column("total_minor", sa.BigInteger(), nullable=False),
        sa.Column("tax_minor", sa.BigInteger(), nullable=False),
        sa.Column("change_minor", sa.BigInteger(), nullable=False),
        sa.Column("original_sale_id", sa.Uuid(), nullable=True),
        sa.Column("note", sa.String(length=200), nullable=False),
        sa.Column("started_at", app.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("completed_at", app.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customer.id"], name=op.f("fk_counter_sale_customer_id_customer")
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["cash_session.id"],
            name=op.f("fk_counter_sale_session_id_cash_session"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_counter_sale")),
        sa.UniqueConstraint("number", name=op.f("uq_counter_sale_number")),
    )
    with op.batch_alter_table("counter_sale", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_counter_sale_completed_at"), ["completed_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_counter_sale_session_id"), ["session_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_counter_sale_station_id"), ["station_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_counter_sale_status"), ["status"], unique=False)

    op.create_table(
        "counter_tender",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("sale_id", sa.Uuid(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("kept_minor", sa.BigInteger(), nullable=False),
        sa.Column("reference", sa.String(length=60), nullable=False),
        sa.Column("refunded_minor", sa.BigInteger(), nullable=False),
        sa.Column("at", app.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["sale_id"], ["counter_sale.id"], name=op.f("fk_counter_tender_sale_id_counter_sale")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_counter_tender")),
    )
    with op.batch_alter_table("counter_tender", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_counter_tender_sale_id"), ["sale_id"], unique=False)

    op.create_table(
        "counter_sale_line",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("sale_id", sa.Uuid(), nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Uuid(), nullable=False),
        sa.Column("sku", sa.String(length=60), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("qty", sa.Integer(), nullable=False),
        sa.Column("grams", sa.Integer(), nullable=True),
        sa.Column("unit_price_minor", sa.BigInteger(), nullable=False),
        sa.Column("price_minor", sa.BigInteger(), nullable=True),
        sa.Column("tax_rate_bp", sa.Integer(), nullable=False),
        sa.Column("discount_minor", sa.BigInteger(), nullable=False),
        sa.Column("discount_approved_by", sa.Uuid(), nullable=True),
        sa.Column("voided", sa.Boolean(), nullable=False),
        sa.Column("basket_discount_minor", sa.BigInteger(), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("tax_minor", sa.BigInteger(), nullable=False),
        sa.Column("gross_minor", sa.BigInteger(), nullable=False),
        sa.Column("returned_qty", sa.Integer(), nullable=False),
        sa.Column("refunded_minor", sa.BigInteger(), nullable=False),
        sa.Column("original_line_id", sa.Uuid(), nullable=True),
        sa.Column("disposition", sa.String(length=12), nullable=False),
        sa.ForeignKeyConstraint(
            ["product_id"], ["product.id"], name=op.f("fk_counter_sale_line_product_id_product")
        ),
        sa.ForeignKeyConstraint(
            ["sale_id"], ["counter_sale.id"], name=op.f("fk_counter_sale_line_sale_id_counter_sale")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_counter_sale_line")),
        sa.UniqueConstraint("sale_id", "line_no", name=op.f("uq_counter_sale_line_sale_id")),
    )
    with op.batch_alter_table("counter_sale_line", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_counter_sale_line_product_id"), ["product_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_counter_sale_line_sale_id"), ["sale_id"], unique=False)

    with op.batch_alter_table("product", schema=None) as batch_op:
        batch_op.add_column(sa.Column("tax_rate_bp", sa.Integer(), nullable=True))

    with op.batch_alter_table("station", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("next_receipt", sa.BigInteger(), nullable=False, server_default="1")
        )


def downgrade() -> None:
    with op.batch_alter_table("station", schema=None) as batch_op:
        batch_op.drop_column("next_receipt")

    with op.batch_alter_table("product", schema=None) as batch_op:
        batch_op.drop_column("tax_rate_bp")

    with op.batch_alter_table("counter_sale_line", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_counter_sale_line_sale_id"))
        batch_op.drop_index(batch_op.f("ix_counter_sale_line_product_id"))

    op.drop_table("counter_sale_line")
    with op.batch_alter_table("counter_tender", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_counter_tender_sale_id"))

    op.drop_table("counter_tender")
    with op.batch_alter_table("counter_sale", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_counter_sale_status"))
        batch_op.drop_index(batch_op.f("ix_counter_sale_station_id"))
        batch_op.drop_index(batch_op.f("ix_counter_sale_session_id"))
        batch_op.drop_index(batch_op.f("ix_counter_sale_completed_at"))

    op.drop_table("counter_sale")
    with op.batch_alter_table("cash_movement", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cash_movement_session_id"))

    op.drop_table("cash_movement")
    with op.batch_alter_table("store_credit_entry", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_store_credit_entry_account"))

    op.drop_table("store_credit_entry")
    with op.batch_alter_table("cash_session", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cash_session_station_id"))

    op.drop_table("cash_session")

"""pick list cart: the code of the cart a pick list's totes ride on

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-16 09:00:00.000000

A picker may scan the cart's label at set-up; the list records it, and scanning the cart later
opens the live list that carries it. Indexed: that look-up runs on the scan path. Carts have no
table of their own: a cart is its printed code (kind ``cart`` in the company's code rules).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("pick_list", schema=None) as b:
        b.add_column(sa.Column("cart", sa.String(40), nullable=True))
    op.create_index(op.f("ix_pick_list_cart"), "pick_list", ["cart"])


def downgrade() -> None:
    op.drop_index(op.f("ix_pick_list_cart"), table_name="pick_list")
    with op.batch_alter_table("pick_list", schema=None) as b:
        b.drop_column("cart")

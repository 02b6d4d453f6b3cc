"""order line price: what a line was paid per unit

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-18 09:00:00.000000

A refund is capped at what the order was paid. Until now that was read off the catalogue,
so a price raised after the sale let a return pay back more than the customer paid, and a
price cut paid back less. The line keeps its price from now on; lines already here take the
catalogue price they had when this ran, the best record there is of what was paid.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("order_line", schema=None) as b:
        b.add_column(sa.Column("unit_price_minor", sa.BigInteger(), nullable=True))
    op.execute(
        "UPDATE order_line SET unit_price_minor = "
        "(SELECT price_minor FROM product WHERE product.id = order_line.product_id)"
    )


def downgrade() -> None:
    with op.batch_alter_table("order_line", schema=None) as b:
        b.drop_column("unit_price_minor")

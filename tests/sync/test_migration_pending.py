"""Issue test 11: a schema migration of the central database while stations' operations are
pending — first with the hub stopped, then with it running and stations pushing — and every
operation is applied afterwards, once."""

from __future__ import annotations

import os
import threading
import time
import uuid
from pathlib import Path

import pytest
from sqlalchemy import inspect, select

from app.store import migrate
from app.store.models import Order
from app.sync import schema
from app.sync.admin import StationLogin
from app.sync.ops import APPLIED, Op
from tests.sync.centralkit import Central, central, make_op, running, wait_for_results

pytestmark = [pytest.mark.postgres, pytest.mark.slow]
__all__ = ["central"]

EXTRA = '''
"""a later release: gift wrapping"""
import sqlalchemy as sa
from alembic import op

revision = "9001"
down_revision = "{head}"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("sales_order", sa.Column("gift_wrap", sa.Boolean(), nullable=False,
                                           server_default=sa.false()))
    op.create_index("ix_sales_order_gift_wrap", "sales_order", ["gift_wrap"])


def downgrade() -> None:
    op.drop_index("ix_sales_order_gift_wrap", table_name="sales_order")
    op.drop_column("sales_order", "gift_wrap")
'''


def _migrate(c: Central, extra: Path, target: str, *, down: bool = False) -> None:
    from alembic import command

    cfg = migrate.alembic_config(c.engine)
    cfg.set_main_option("path_separator", "os")
    cfg.set_main_option(
        "version_locations", os.pathsep.join([str(migrate.MIGRATIONS / "versions"), str(extra)])
    )
    with c.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        (command.downgrade if down else command.upgrade)(cfg, target)


def _ops(login: StationLogin, order_id: uuid.UUID, first: int, count: int) -> list[Op]:
    kinds = ("order.pack_started", "order.set_aside")
    out = []
    for s in range(first, first + count):
        if s % 4:
            out.append(
                make_op(
                    login.station_id,
                    s,
                    kinds[s % 2],
                    {"order_id": str(order_id)},
                    "order",
                    order_id,
                )
            )
        else:
            out.append(
                make_op(
                    login.station_id,
                    s,
                    "scan.rejected",
                    {"raw": f"M{s}", "reason": "?", "scan_id": str(uuid.uuid4())},
                    "scan",
                )
            )
    return out


def test_operations_pending_across_a_migration_are_all_applied(
    central: Central, tmp_path: Path
) -> None:
    extra = tmp_path / "versions"
    extra.mkdir()
    (extra / "9001_gift_wrap.py").write_text(EXTRA.format(head=migrate.HEAD), encoding="utf-8")
    logins = [central.add_station(f"MIG-{n}") for n in range(3)]
    with central.engine.connect() as conn:
        orders = list(conn.scalars(select(Order.id).where(Order.status == "confirmed").limit(3)))

    # 1. The hub is stopped; operations wait in the inbox; the schema is upgraded.
    for login, oid in zip(logins, orders, strict=True):
        central.push(login, _ops(login, oid, 1, 100))
    assert central.count("inbox") == 300 and central.count("op_result") == 0
    _migrate(central, extra, "9001")
    with central.engine.begin() as conn:  # what `central init` does after its migrations
        schema.apply(conn, central.prefix)
    assert "gift_wrap" in {c["name"] for c in inspect(central.engine).get_columns("sales_order")}

    hub = central.hub(poll_interval=0.05, batch=40)
    with running(hub) as errors:
        wait_for_results(central, 300)

        # 2. The hub runs and the stations push while the schema is taken back down.
        def push_more() -> None:
            try:
                for login, oid in zip(logins, orders, strict=True):
                    for first in range(101, 201, 20):
                        central.push(login, _ops(login, oid, first, 20))
                        time.sleep(0.01)
            except BaseException as e:
                errors.append(e)

        pusher = threading.Thread(target=push_more)
        pusher.start()
        time.sleep(0.05)
        _migrate(central, extra, migrate.HEAD, down=True)
        pusher.join()
        wait_for_results(central, 600)
    assert errors == []
    columns = inspect(central.engine).get_columns("sales_order")
    assert "gift_wrap" not in {c["name"] for c in columns}
    results = central.results()
    assert len(results) == 600 and {r.result for r in results} == {APPLIED}
    for login in logins:
        assert [r.seq for r in central.results(login.station_id)] == list(range(1, 201))
    assert hub.applied_total == 600

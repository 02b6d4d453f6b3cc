"""A station offline for a long stretch heals: it recorded 5,000 operations while two other
stations worked online on the same orders and products; once it is back, every operation is
applied once, and every station's view has the same checksum as central's at the same feed
position."""

from __future__ import annotations

import random
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from app.domain.errors import ScanRejectedError
from app.services import packages, packing, stock
from app.store.models import OpResult, OutboxOp, Product
from app.sync.checksum import central_view, station_view
from app.sync.ops import APPLIED
from app.sync.worker import SyncWorker
from tests.sync.centralkit import Central, central
from tests.sync.stationkit import Bench, add_bench, confirmed_orders, hub_running, unit_codes

pytestmark = [pytest.mark.postgres, pytest.mark.slow]
__all__ = ["central", "hub_running"]
OFFLINE_OPS = 5000


def _ops(b: Bench) -> int:
    with b.ctx.engine.connect() as conn:
        return int(conn.scalar(select(func.count()).select_from(OutboxOp)) or 0)


def _pack(b: Bench, number: str, badge: str = "OP-1001") -> None:
    """Pack a whole order at the bench: open, scan every unit, close the box, complete."""
    who = b.sign_in(badge)
    with b.ctx.uow(who) as uow:
        order_id = packing.open_order(uow, number).id
    for code in unit_codes(b.ctx, order_id):
        with b.ctx.uow(who) as uow:
            packing.scan_item(uow, packing.ItemScan(order_id, code))
    with b.ctx.uow(who) as uow:
        packages.close_package(uow, order_id, 1, 900, packages.BOX_TYPES[1])
    with b.ctx.uow(who) as uow:
        packing.complete_order(uow, order_id)


def _products(b: Bench, n: int) -> list[tuple[object, object]]:
    with b.ctx.engine.connect() as conn:
        return [
            (r.id, r.home_location_id)
            for r in conn.execute(
                select(Product.id, Product.home_location_id)
                .where(Product.home_location_id.is_not(None))
                .order_by(Product.sku)
                .limit(n)
            )
        ]


def _facts_until(b: Bench, total: int, rng: random.Random) -> None:
    """Counter sales, adjustments and rejected scans until the outbox holds ``total``."""
    seller, boss = b.sign_in("OP-1004"), b.sign_in("OP-9001")
    products = _products(b, 30)
    have = _ops(b)
    while have < total:
        product_id, bin_id = rng.choice(products)
        kind = rng.random()
        if kind < 0.6:
            with b.ctx.uow(seller) as uow:
                stock.record_sale(uow, [stock.Line(product_id, rng.randint(1, 4))])  # type: ignore[arg-type]
        elif kind < 0.8:
            with b.ctx.uow(boss) as uow:
                stock.adjust_stock(uow, product_id, bin_id, rng.randint(-3, 9) or 1, "recount")  # type: ignore[arg-type]
        else:
            with b.ctx.uow(seller) as uow:
                packing.record_rejected_scan(uow, f"X{have}", None, ScanRejectedError("no"))
        have += 1


def _online(b: Bench) -> SyncWorker:
    worker = SyncWorker(b.ctx.config, poll_s=0.5)
    worker.start()
    return worker


def _settle(central: Central, benches: list[Bench], timeout: float = 600) -> None:
    """Run every station's sync until its outbox is done and it stands at the feed's head."""
    deadline = time.monotonic() + timeout
    while True:
        for b in benches:
            worker = SyncWorker(b.ctx.config, poll_s=0.2)
            try:
                caught_up = worker.sync_until_caught_up(
                    all_done=True, timeout=max(1.0, deadline - time.monotonic())
                )
            finally:
                worker.stop()
            assert caught_up, f"{b.ctx.station_name}: {worker.status}"
        with central.engine.connect() as conn:
            head = conn.scalar(text('SELECT max("next") - 1 FROM feed_head'))
            unapplied = conn.scalar(
                text(
                    "SELECT count(*) FROM inbox i WHERE NOT EXISTS "
                    "(SELECT 1 FROM op_result r WHERE r.op_id = i.op_id)"
                )
            )
        cursors = [station_view_cursor(b) for b in benches]
        if not unapplied and all(c == head for c in cursors):
            return
        assert time.monotonic() < deadline, f"not settled: head {head}, cursors {cursors}"
        time.sleep(0.2)


def station_view_cursor(b: Bench) -> int:
    with b.ctx.engine.connect() as conn:
        return int(conn.scalar(text("SELECT cursor FROM sync_state")) or 0)


def test_a_station_offline_with_5000_operations_heals_and_every_view_matches_central(
    central: Central, tmp_path: Path, hub_running: None
) -> None:
    rng = random.Random(8)
    a = add_bench(central, "LONG-GONE", tmp_path)
    b = add_bench(central, "PACK-B", tmp_path)
    c = add_bench(central, "SHOP-C", tmp_path)
    orders = confirmed_orders(a.ctx, 12)
    workers = [_online(b), _online(c)]
    try:
        # Station A is offline: it packs orders, some of which B packs online meanwhile.
        for number in orders[:8]:
            _pack(a, number)
        for number in orders[4:10]:  # orders 4–7 at both benches: A's claims will lose
            _pack(b, number)
        # ...and sells at the counter, adjusts stock, keeps rejected scans; C sells online.
        _facts_until(c, 300, random.Random(3))
        _facts_until(a, OFFLINE_OPS, rng)
        assert _ops(a) == OFFLINE_OPS
        for w in workers:
            w.stop()
        # A is back: everything heals without a person.
        _settle(central, [a, b, c])
    finally:
        for w in workers:
            w.stop()

    with central.engine.connect() as conn:
        results = dict(
            conn.execute(
                select(OpResult.result, func.count())
                .where(OpResult.station_id == a.ctx.station_id)
                .group_by(OpResult.result)
            ).all()
        )
        inbox = conn.scalar(text("SELECT count(*) FROM inbox"))
        applied_once = conn.scalar(text("SELECT count(DISTINCT op_id) = count(*) FROM op_result"))
    assert sum(results.values()) == OFFLINE_OPS, "an operation of the offline station is missing"
    assert results.get(APPLIED, 0) > OFFLINE_OPS * 0.9
    assert inbox == OFFLINE_OPS + _ops(b) + _ops(c)
    assert applied_once
    with a.ctx.engine.connect() as conn:
        statuses = dict(
            conn.execute(select(OutboxOp.status, func.count()).group_by(OutboxOp.status)).all()
        )
    assert statuses == {"done": OFFLINE_OPS}
    theirs = central_view(central.engine, central_warehouse(central))
    for bench in (a, b, c):
        mine = station_view(bench.ctx.engine)
        assert mine.position == theirs.position, bench.ctx.station_name
        assert mine.differences(theirs) == [], bench.ctx.station_name
        assert mine.digest == theirs.digest
    for bench in (a, b, c):
        bench.close()


def central_warehouse(c: Central) -> object:
    with c.engine.connect() as conn:
        return conn.scalar(text("SELECT id FROM warehouse WHERE code = 'WH1'"))

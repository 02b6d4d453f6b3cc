"""The hub on a real PostgreSQL: a station's operations applied with the same rules, results
recorded, rejections that block nothing, claims, exactly once and in order."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, insert, select, text

from app.clock import utcnow
from app.services import packages, packing
from app.store.models import ExceptionTask, Order, StockMovement
from app.sync import feed
from app.sync.ops import APPLIED, REJECTED
from tests.conftest import find_order
from tests.sync.centralkit import (
    Central,
    central,
    make_op,
    pack_whole_order,
    sign_in,
    station_ctx,
    unit_codes,
)

pytestmark = pytest.mark.postgres
__all__ = ["central"]


def _aggregate(engine: Engine, order_id: uuid.UUID) -> dict[str, Any]:
    """The order as a person compares it: states, counts, boxes and units (not clock times)."""
    with engine.connect() as conn:
        agg = feed.serialise(conn, "order", order_id)
    assert agg is not None
    o = agg["order"]
    return {
        "order": (o["status"], o["version"], o["packed_at"], o["hold_reason"]),
        "lines": sorted((r["id"], r["qty_packed"], r["qty_missing"]) for r in agg["lines"]),
        "packages": sorted(
            (r["id"], r["seq"], r["status"], r["weight_g"], r["box_type"], r["sscc"])
            for r in agg["packages"]
        ),
        "items": sorted(
            (r["package_id"], r["order_line_id"], r["qty"]) for r in agg["package_items"]
        ),
        "units": sorted(
            (r["id"], r["order_line_id"], r["package_id"], r["qty"], r["undone"])
            for r in agg["packed_units"]
        ),
    }


def _movements(engine: Engine, number: str) -> list[tuple[str, int]]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(StockMovement.id, StockMovement.qty).where(StockMovement.ref == number)
        )
        return sorted((str(i), q) for i, q in rows)


def test_an_order_packed_at_a_station_is_the_same_order_centrally(
    central: Central, tmp_path: Path
) -> None:
    ctx = station_ctx(central, "PACK-01", tmp_path)
    packer = sign_in(ctx)
    number = find_order(ctx, lines=2, units=3)
    order_id = pack_whole_order(ctx, packer, number)
    ops = central.push_outbox(central.stations["PACK-01"], ctx.engine)
    assert ops[0].kind == "order.pack_started"

    with central.hub() as hub:
        applied = hub.drain()

    assert applied == len(ops)
    results = central.results(ctx.station_id)
    assert [(r.seq, r.result, r.reason) for r in results] == [(op.seq, APPLIED, "") for op in ops]
    assert _aggregate(central.engine, order_id) == _aggregate(ctx.engine, order_id)
    assert _movements(central.engine, number) == _movements(ctx.engine, number)
    assert len(_movements(central.engine, number)) == 2
    with central.engine.connect() as conn:
        order = conn.execute(select(Order).where(Order.id == order_id)).one()
        assert order.status == "packed"
        assert order.claimed_by_station is None, "a packed order frees its claim"
        # Every result that changed the order points at a feed row carrying it.
        last = max(r.pos for r in results)
        row = conn.execute(
            text("SELECT entity, entity_id, payload FROM change_log WHERE pos = :p"), {"p": last}
        ).one()
    assert row.payload is not None
    ctx.dispose()


def test_packing_more_than_central_stock_holds_raises_an_oversell_task(
    central: Central, tmp_path: Path
) -> None:
    """The units are in the box and the order is complete: a fact, kept. Central's ledger had
    fewer in the bin (another station's sale, a miscount), so a supervisor is told which place
    went below zero, by how much, and for which order."""
    ctx = station_ctx(central, "PACK-OVER", tmp_path)
    packer = sign_in(ctx)
    number = find_order(ctx, lines=2, units=3)
    order_id = pack_whole_order(ctx, packer, number)
    with central.engine.connect() as conn:
        line = conn.execute(
            text(
                "SELECT l.product_id, l.location_id, l.qty_ordered, p.sku, b.code "
                "FROM order_line l JOIN product p ON p.id = l.product_id "
                "JOIN location b ON b.id = l.location_id "
                "WHERE l.order_id = :o ORDER BY l.line_no LIMIT 1"
            ),
            {"o": order_id},
        ).one()
        on_hand = conn.scalar(
            select(func.coalesce(func.sum(StockMovement.qty), 0)).where(
                StockMovement.product_id == line.product_id,
                StockMovement.location_id == line.location_id,
            )
        )
    with central.engine.begin() as conn:  # central saw the bin emptied meanwhile
        conn.execute(
            insert(StockMovement).values(
                id=uuid.uuid4(),
                at=utcnow(),
                product_id=line.product_id,
                location_id=line.location_id,
                qty=-on_hand,
                reason="adjust",
                ref="miscount",
            )
        )
    ops = central.push_outbox(central.stations["PACK-OVER"], ctx.engine)
    with central.hub() as hub:
        hub.drain()

    results = central.results(ctx.station_id)
    assert [r.result for r in results] == [APPLIED] * len(ops), [r.reason for r in results]
    with central.engine.connect() as conn:
        tasks = conn.execute(select(ExceptionTask).where(ExceptionTask.kind == "oversell")).all()
    assert len(tasks) == 1, "one task for the completion, naming the place it took below zero"
    details = tasks[0].details
    assert details["op_kind"] == "order.packed"
    assert details["ref"] == number
    assert details["places"] == [
        {
            "product_id": str(line.product_id),
            "sku": line.sku,
            "location_id": str(line.location_id),
            "location": line.code,
            "qty": -line.qty_ordered,
            "on_hand": -line.qty_ordered,
        }
    ]
    ctx.dispose()


def test_packing_within_central_stock_raises_no_task(central: Central, tmp_path: Path) -> None:
    ctx = station_ctx(central, "PACK-FINE", tmp_path)
    order_id = pack_whole_order(ctx, sign_in(ctx), find_order(ctx, lines=2, units=3))
    central.push_outbox(central.stations["PACK-FINE"], ctx.engine)
    with central.hub() as hub:
        hub.drain()
    assert all(r.result == APPLIED for r in central.results(ctx.station_id))
    with central.engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(ExceptionTask)) == 0
        assert conn.scalar(select(Order.status).where(Order.id == order_id)) == "packed"
    ctx.dispose()


def test_a_second_bench_is_told_who_has_the_order_and_what_to_do(
    central: Central, tmp_path: Path
) -> None:
    a = station_ctx(central, "BENCH-A", tmp_path)
    b = station_ctx(central, "BENCH-B", tmp_path)
    number = find_order(a, lines=2, units=3)
    with a.uow(sign_in(a)) as uow:
        order_id = packing.open_order(uow, number).id
    central.push_outbox(central.stations["BENCH-A"], a.engine)
    hub = central.hub()
    hub.drain()
    # Bench B was offline: it opened the same order and went on scanning.
    packer_b = sign_in(b, "OP-9001")
    with b.uow(packer_b) as uow:
        packing.open_order(uow, number)
    for code in unit_codes(b, order_id)[:2]:
        with b.uow(packer_b) as uow:
            packing.scan_item(uow, packing.ItemScan(order_id, code))
    central.push_outbox(central.stations["BENCH-B"], b.engine)
    hub.drain()

    results = central.results(b.station_id)
    claim = results[0]
    assert claim.result == REJECTED
    assert f"Order {number} is being packed at BENCH-A by Pat Packer since " in claim.reason
    assert " UTC — take another order" in claim.reason
    assert [r.result for r in results[1:]] == [APPLIED, APPLIED], "scans are facts: kept"
    with central.engine.connect() as conn:
        tasks = conn.execute(select(ExceptionTask).where(ExceptionTask.entity_id == order_id)).all()
        claimed_by = conn.scalar(select(Order.claimed_by_station).where(Order.id == order_id))
    assert len(tasks) == 1, "one disputed claim per order and bench, however many scans"
    assert tasks[0].kind == "disputed_claim"
    assert tasks[0].details["station"] == "BENCH-B"
    assert tasks[0].details["holder_station"] == "BENCH-A"
    assert claimed_by == a.station_id
    # The rejected claim's entity went back on the feed for bench B to take central's state.
    assert claim.pos > 0
    a.dispose()
    b.dispose()


def _new_station(central: Central) -> Any:
    return central.add_station(f"ST-{uuid.uuid4().hex[:4]}")


def test_a_rejected_operation_blocks_none_behind_it(central: Central) -> None:
    login = _new_station(central)
    sid = login.station_id
    with central.engine.connect() as conn:
        order_id = conn.scalar(select(Order.id).where(Order.status == "confirmed").limit(1))
    ops = [
        make_op(
            sid,
            1,
            "scan.rejected",
            {"raw": "X1", "reason": "unknown", "scan_id": str(uuid.uuid4())},
            "scan",
        ),
        make_op(sid, 2, "order.teleported", {"order_id": str(order_id)}, "order", order_id),
        make_op(sid, 3, "order.item_missing", {"order_id": str(order_id)}, "order", order_id),
        make_op(sid, 4, "order.pack_started", {"order_id": str(order_id)}, "order", order_id),
        make_op(sid, 5, "print.reprinted", {"job": "x"}, "print_job"),
    ]
    central.push(login, ops)
    with central.hub() as hub:
        assert hub.drain() == 5
    results = central.results(sid)
    assert [r.result for r in results] == [APPLIED, REJECTED, REJECTED, APPLIED, APPLIED]
    assert "does not know operations of kind 'order.teleported'" in results[1].reason
    assert "update the hub" in results[1].reason
    assert "has no valid 'line_id'" in results[2].reason
    assert results[4].pos == 0, "a print reprint changes nothing shared"
    # The operations around the rejected ones kept their effects, once each.
    with central.engine.connect() as conn:
        assert conn.scalar(text("SELECT count(*) FROM scan_event WHERE raw = 'X1'")) == 1
        order = conn.execute(select(Order).where(Order.id == order_id)).one()
    assert (order.status, order.claimed_by_station) == ("packing", sid)
    assert order.hold_reason == "", "the rejected missing-item report left no trace"
    assert results[2].pos > 0, "the order went back on the feed for the station to correct"


def test_operations_apply_in_sequence_and_a_gap_waits(central: Central) -> None:
    login = _new_station(central)
    sid = login.station_id
    with central.engine.connect() as conn:
        order_id = conn.scalar(select(Order.id).where(Order.status == "confirmed").limit(1))
    started = make_op(sid, 1, "order.pack_started", {"order_id": str(order_id)}, "order", order_id)
    aside = make_op(sid, 2, "order.set_aside", {"order_id": str(order_id)}, "order", order_id)
    again = make_op(sid, 3, "order.pack_started", {"order_id": str(order_id)}, "order", order_id)
    hub = central.hub()
    central.push(login, [started, again])
    assert hub.drain() == 1, "operation 3 waits for operation 2"
    central.push(login, [aside])
    assert hub.drain() == 2
    assert [r.seq for r in central.results(sid)] == [1, 2, 3]
    with central.engine.connect() as conn:
        assert conn.scalar(select(Order.claimed_by_station).where(Order.id == order_id)) == sid


def test_a_resent_batch_is_applied_once(central: Central) -> None:
    login = _new_station(central)
    sid = login.station_id
    ops = [
        make_op(
            sid,
            n,
            "scan.rejected",
            {"raw": f"R{n}", "reason": "?", "scan_id": str(uuid.uuid4())},
            "scan",
        )
        for n in range(1, 51)
    ]
    central.push(login, ops[:30])
    hub = central.hub()
    hub.drain()
    central.push(login, ops)  # the first 30 again, as after a lost answer
    central.push(login, ops)
    hub.drain()
    hub.drain()
    assert central.count("inbox") == 50
    assert [r.seq for r in central.results(sid)] == list(range(1, 51))
    with central.engine.connect() as conn:
        scans = conn.scalar(text("SELECT count(*) FROM scan_event WHERE raw LIKE 'R%'"))
    assert scans == 50


def test_every_pack_bench_operation_gives_the_same_boxes_centrally(
    central: Central, tmp_path: Path
) -> None:
    """Two boxes, units moved between them, a box closed and reopened, a scan undone, an item
    reported missing and the hold released by a supervisor (ship short), then completion."""
    ctx = station_ctx(central, "PACK-02", tmp_path)
    who = sign_in(ctx)
    number = find_order(ctx, lines=2, units=3)
    with ctx.uow(who) as uow:
        order = packing.open_order(uow, number)
    codes = unit_codes(ctx, order.id)
    for code in codes:
        with ctx.uow(who) as uow:
            packing.scan_item(uow, packing.ItemScan(order.id, code))
    first_line = order.lines[0].id
    last_line = next(ln.id for ln in order.lines if ln.id != first_line)
    steps = [
        lambda uow: packages.add_package(uow, order.id),
        lambda uow: packages.move_units(uow, order.id, first_line, 1, 2, 1),
        lambda uow: packages.close_package(uow, order.id, 2, 800, packages.BOX_TYPES[1]),
        lambda uow: packages.reopen_package(uow, order.id, 2),
        lambda uow: packing.undo_last_scan(uow, order.id),
        lambda uow: packing.report_missing(uow, order.id, last_line, 1, "bin empty"),
        lambda uow: packing.release_hold(uow, order.id, "OP-9001", ship_short=True),
        lambda uow: packages.close_package(uow, order.id, 1, 900, packages.BOX_TYPES[0]),
        lambda uow: packages.close_package(uow, order.id, 2, 700, packages.BOX_TYPES[1]),
        lambda uow: packing.complete_order(uow, order.id),
    ]
    for step in steps:
        with ctx.uow(who) as uow:
            step(uow)
    ops = central.push_outbox(central.stations["PACK-02"], ctx.engine)
    kinds = {op.kind for op in ops}
    assert kinds >= {
        "package.added",
        "package.units_moved",
        "package.closed",
        "package.reopened",
        "order.pack_undone",
        "order.item_missing",
        "order.hold_released",
        "order.packed",
    }
    with central.hub() as hub:
        hub.drain()
    results = central.results(ctx.station_id)
    assert [(r.seq, r.result, r.reason) for r in results] == [(op.seq, APPLIED, "") for op in ops]
    assert _aggregate(central.engine, order.id) == _aggregate(ctx.engine, order.id)
    assert _movements(central.engine, number) == _movements(ctx.engine, number)
    ctx.dispose()


def test_a_supervisor_frees_an_order_a_stopped_bench_holds(central: Central) -> None:
    a, b = _new_station(central), _new_station(central)
    with central.engine.connect() as conn:
        order_id = conn.scalar(select(Order.id).where(Order.status == "confirmed").limit(1))
        packer = conn.scalar(text("SELECT id FROM operator WHERE badge = 'OP-1001'"))
        supervisor = conn.scalar(text("SELECT id FROM operator WHERE badge = 'OP-9001'"))
    oid = str(order_id)
    central.push(
        a, [make_op(a.station_id, 1, "order.pack_started", {"order_id": oid}, "order", order_id)]
    )
    central.push(
        b,
        [
            make_op(
                b.station_id,
                1,
                "order.claim_freed",
                {"order_id": oid, "supervisor_id": str(packer)},
                "order",
                order_id,
            ),
            make_op(
                b.station_id,
                2,
                "order.claim_freed",
                {"order_id": oid, "supervisor_id": str(supervisor)},
                "order",
                order_id,
            ),
            make_op(b.station_id, 3, "order.pack_started", {"order_id": oid}, "order", order_id),
        ],
    )
    with central.hub() as hub:
        hub.drain()
    refused, freed, claimed = central.results(b.station_id)
    assert refused.result == REJECTED
    assert refused.reason == (
        "Only a supervisor's badge can free an order another bench holds — "
        "ask a supervisor to scan theirs."
    )
    assert (freed.result, claimed.result) == (APPLIED, APPLIED)
    with central.engine.connect() as conn:
        holder = conn.scalar(select(Order.claimed_by_station).where(Order.id == order_id))
    assert holder == b.station_id

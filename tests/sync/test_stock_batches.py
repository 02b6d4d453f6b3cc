"""Stock facts applied many at a time by the hub give what one at a time gives: the same
operations refused with the same words, the rest applied, and an oversell task for exactly the
operations that took a place below zero as the ledger stood when each was applied."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import func, select, text

from app.clock import utcnow
from app.ids import new_id
from app.services.stock import ADJUSTED, SALE
from app.store.models import ExceptionTask, Product, StockMovement
from app.sync.ops import APPLIED, REJECTED, Op
from tests.sync.centralkit import Central, central, make_op

pytestmark = pytest.mark.postgres
__all__ = ["central"]


def _place(c: Central) -> tuple[uuid.UUID, uuid.UUID, int]:
    """A product, its home bin and what the bin holds."""
    with c.engine.connect() as conn:
        p, b = conn.execute(
            select(Product.id, Product.home_location_id)
            .where(Product.home_location_id.is_not(None))
            .order_by(Product.sku)
            .limit(1)
        ).one()
        have = conn.scalar(
            select(func.coalesce(func.sum(StockMovement.qty), 0)).where(
                StockMovement.product_id == p, StockMovement.location_id == b
            )
        )
    return p, b, int(have or 0)


def _fact(
    sid: uuid.UUID, seq: int, kind: str, product: Any, bin_id: Any, qty: int, **row: Any
) -> Op:
    reason = "sale" if kind == SALE else "adjust"
    movement = {
        "id": str(row.get("id", new_id())),
        "product_id": str(product),
        "location_id": str(bin_id),
        "at": utcnow().isoformat(),
        "qty": qty,
        "reason": row.get("reason", reason),
        "ref": f"R{seq}",
    }
    return make_op(sid, seq, kind, {"movements": [movement]}, "stock_movement", None)


def test_a_batch_of_facts_is_applied_as_one_after_the_other(central: Central) -> None:
    login = central.add_station("TILL-B")
    sid = login.station_id
    product, bin_id, have = _place(central)
    twice = new_id()
    ops = [
        _fact(sid, 1, SALE, product, bin_id, -have),  # takes the bin to 0: no task
        _fact(sid, 2, SALE, product, bin_id, -1),  # -1: a task
        _fact(sid, 3, SALE, uuid.uuid4(), bin_id, -1),  # an unknown product: refused
        _fact(sid, 4, ADJUSTED, product, bin_id, 5),  # +5: 4 in the bin
        _fact(sid, 5, SALE, product, bin_id, -2, reason="pack"),  # a reason not of a sale
        _fact(sid, 6, SALE, product, bin_id, -3, id=twice),  # 1 left: no task
        _fact(sid, 7, SALE, product, bin_id, -1, id=twice),  # its row is in the ledger already
        _fact(sid, 8, SALE, product, uuid.uuid4(), -1),  # an unknown bin: refused
        _fact(sid, 9, SALE, product, bin_id, -2),  # -1: a task
    ]
    central.push(login, ops)
    hub = central.hub()
    assert hub.drain() == len(ops)

    results = {r.seq: (r.result, r.reason) for r in central.results(sid)}
    assert {s for s, (r, _) in results.items() if r == APPLIED} == {1, 2, 4, 6, 9}
    assert {s for s, (r, _) in results.items() if r == REJECTED} == {3, 5, 7, 8}
    assert "is not in the central database" in results[3][1]
    assert "'pack' does not fit" in results[5][1]
    assert "already in the central ledger" in results[7][1]
    assert "bin" in results[8][1] and "is not in the central database" in results[8][1]
    with central.engine.connect() as conn:
        left = conn.scalar(
            select(func.sum(StockMovement.qty)).where(
                StockMovement.product_id == product, StockMovement.location_id == bin_id
            )
        )
        tasks = conn.execute(
            select(ExceptionTask.op_id, ExceptionTask.details).where(
                ExceptionTask.kind == "oversell"
            )
        ).all()
        rows = conn.scalar(text("SELECT count(*) FROM stock_movement WHERE ref LIKE 'R%'"))
    assert left == have - have - 1 + 5 - 3 - 2 == -1
    by_op = {op.op_id: op.seq for op in ops}
    assert sorted(by_op[t.op_id] for t in tasks) == [2, 9]
    on_hand = {by_op[t.op_id]: t.details["places"][0]["on_hand"] for t in tasks}
    assert on_hand == {2: -1, 9: -1}
    assert rows == 5  # one ledger row for each applied fact, none for the refused


def test_a_refused_fact_first_in_its_batch_leaves_the_rest_applied_in_one_go(
    central: Central,
) -> None:
    login = central.add_station("TILL-C")
    sid = login.station_id
    product, bin_id, have = _place(central)
    ops = [
        _fact(sid, 1, SALE, uuid.uuid4(), bin_id, -1),  # refused: the rest is one batch
        _fact(sid, 2, SALE, product, bin_id, -have),  # 0
        _fact(sid, 3, SALE, product, bin_id, -1),  # -1: a task
        _fact(sid, 4, ADJUSTED, product, bin_id, 3),  # 2
        _fact(sid, 5, SALE, product, bin_id, -2),  # 0
        _fact(sid, 6, SALE, product, bin_id, -1),  # -1: a task
    ]
    ops += [_fact(sid, s, ADJUSTED, product, bin_id, 1) for s in range(7, 40)]
    central.push(login, ops)
    assert central.hub().drain() == len(ops)
    results = [r.result for r in central.results(sid)]
    assert results == [REJECTED] + [APPLIED] * 38
    with central.engine.connect() as conn:
        tasks = conn.execute(
            select(ExceptionTask.op_id, ExceptionTask.details).where(
                ExceptionTask.kind == "oversell"
            )
        ).all()
    by_op = {op.op_id: op.seq for op in ops}
    assert {by_op[t.op_id]: t.details["places"][0]["on_hand"] for t in tasks} == {3: -1, 6: -1}


def test_a_batch_that_fails_without_naming_an_operation_is_applied_one_at_a_time(
    central: Central, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A batch applier's error that names none of its operations (the database refused a row)
    must not reject the batch's first operation: the hub applies that run one at a time, and
    only the operation at fault is rejected, with its own words."""
    from app.domain.errors import ValidationError
    from app.sync import appliers

    kind = "test.batched"

    def one(ctx: appliers.ApplyContext, op: Op) -> None:
        if op.payload.get("bad"):
            raise ValidationError(f"operation {op.seq} is the bad one")

    def batch(ctxs: list[appliers.ApplyContext]) -> None:
        if any(c.op.payload.get("bad") for c in ctxs):
            raise RuntimeError("the database refused a row")

    monkeypatch.setitem(appliers.REGISTRY, kind, one)
    monkeypatch.setitem(appliers.BATCHES, kind, batch)
    login = central.add_station("TILL-D")
    sid = login.station_id
    ops = [make_op(sid, s, kind, {"bad": s == 3}, "stock_movement", None) for s in range(1, 7)]
    central.push(login, ops)
    assert central.hub().drain() == len(ops)
    results = [(r.seq, r.result, r.reason) for r in central.results(sid)]
    assert results == [
        (1, APPLIED, ""),
        (2, APPLIED, ""),
        (3, REJECTED, "operation 3 is the bad one"),
        (4, APPLIED, ""),
        (5, APPLIED, ""),
        (6, APPLIED, ""),
    ]


def test_the_feed_carries_each_applied_facts_ledger_rows_as_central_holds_them(
    central: Central,
) -> None:
    """The hub writes a batch's ledger rows to the feed as the applier inserted them, without
    reading them back: what the feed carries is still exactly the central row, for the facts
    before and after a refused one, and the refused one's row is nowhere."""
    from app.sync import feed

    login = central.add_station("TILL-E")
    sid = login.station_id
    product, bin_id, _have = _place(central)
    ops = [_fact(sid, s, SALE, product, bin_id, -1) for s in range(1, 8)]
    ops[3] = _fact(sid, 4, SALE, uuid.uuid4(), bin_id, -1)  # an unknown product: refused
    # A till two hours east of UTC: central keeps, and feeds, the time in UTC.
    ops[1].payload["movements"][0]["at"] = datetime.now(timezone(timedelta(hours=2))).isoformat()
    central.push(login, ops)
    assert central.hub().drain() == len(ops)

    results = {r.seq: r for r in central.results(sid)}
    assert [results[s].result for s in range(1, 8)] == [APPLIED] * 3 + [REJECTED] + [APPLIED] * 3
    with central.engine.connect() as conn:
        fed = conn.execute(
            text(
                "SELECT entity_id, op_id, pos, payload FROM change_log "
                "WHERE entity = 'stock_movement' AND payload->>'ref' LIKE 'R%'"
            )
        ).all()
        assert len(fed) == 6
        for row_id, _op_id, _pos, payload in fed:
            assert payload == feed.serialise(conn, "stock_movement", row_id)
    refused = ops[3].payload["movements"][0]["id"]
    assert refused not in {str(row_id) for row_id, *_ in fed}
    by_op = {op_id: pos for _row, op_id, pos, _payload in fed}
    for op in ops:
        if results[op.seq].result == APPLIED:
            assert results[op.seq].pos == by_op[op.op_id]


def test_a_ledger_row_changed_after_it_went_in_reaches_the_feed_as_changed(
    central: Central, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A ledger row is fed as its applier wrote it, unless something changed it after: the
    same operation (a pick that names its lot), or a later operation of the same round."""
    from sqlalchemy import update

    from app.sync import appliers, feed
    from app.sync.appliers.stock import insert_movements

    def lot_now(ctx: appliers.ApplyContext, op: Op) -> None:
        insert_movements(ctx, op, op.list_of("movements"), frozenset({"sale"}))
        row_id = uuid.UUID(op.payload["movements"][0]["id"])
        ctx.session.execute(
            update(StockMovement).where(StockMovement.id == row_id).values(lot="L1")
        )
        ctx.touch("stock_movement", row_id)

    def lot_later(ctx: appliers.ApplyContext, op: Op) -> None:
        row_id = op.id_of("row")
        ctx.session.execute(
            update(StockMovement).where(StockMovement.id == row_id).values(lot="L2")
        )
        ctx.touch("stock_movement", row_id)

    monkeypatch.setitem(appliers.REGISTRY, "test.lot_now", lot_now)
    monkeypatch.setitem(appliers.REGISTRY, "test.lot_later", lot_later)
    login = central.add_station("TILL-F")
    sid = login.station_id
    product, bin_id, _have = _place(central)
    first = _fact(sid, 1, SALE, product, bin_id, -1)
    now = replace(_fact(sid, 2, SALE, product, bin_id, -1), kind="test.lot_now")
    later_row = first.payload["movements"][0]["id"]
    later = make_op(sid, 3, "test.lot_later", {"row": later_row}, "stock_movement", None)
    ops = [first, now, later, _fact(sid, 4, SALE, product, bin_id, -1)]
    central.push(login, ops)
    assert central.hub().drain() == len(ops)

    assert [r.result for r in central.results(sid)] == [APPLIED] * 4
    with central.engine.connect() as conn:
        fed = {
            str(row_id): payload
            for row_id, payload in conn.execute(
                text(
                    "SELECT entity_id, payload FROM change_log "
                    "WHERE entity = 'stock_movement' AND payload->>'ref' LIKE 'R%'"
                )
            )
        }
        assert len(fed) == 3
        for row_id, payload in fed.items():
            assert payload == feed.serialise(conn, "stock_movement", uuid.UUID(row_id))
    assert fed[later_row]["lot"] == "L2"
    assert fed[now.payload["movements"][0]["id"]]["lot"] == "L1"


def test_an_operation_whose_payload_is_json_null_is_refused_alone(central: Central) -> None:
    """A payload of JSON null (a station out of order) is read as an empty one: that operation
    is refused with words and the ones behind it go in."""
    login = central.add_station("TILL-G")
    sid = login.station_id
    product, bin_id, _have = _place(central)
    ops = [
        replace(_fact(sid, 1, SALE, product, bin_id, -1), payload=None),  # type: ignore[arg-type]
        _fact(sid, 2, SALE, product, bin_id, -1),
    ]
    central.push(login, ops)
    assert central.hub().drain() == len(ops)
    results = [(r.seq, r.result) for r in central.results(sid)]
    assert results == [(1, REJECTED), (2, APPLIED)]
    assert "movements" in central.results(sid)[0].reason

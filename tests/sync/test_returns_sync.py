"""The returns desk through the hub, on a real PostgreSQL: RMAs reach every desk of the
warehouse with the bootstrap and the feed; the same return booked in at two desks while offline
is received once centrally and the second receipt is a conflict a supervisor sees; resolutions
(refund, store credit, exchange order) land centrally as the desk wrote them."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from app.domain.returns import Condition, Reason, Resolution
from app.services import conflicts
from app.services.returns import resolution, rmas
from app.services.returns.demo import ReturnsDemo, create_returns_demo
from app.services.returns.desk import Outcome, ReturnDesk
from app.store.models import (
    CustomerNotification,
    ExceptionTask,
    OpResult,
    Order,
    OrderLine,
    ReturnRefund,
    ReturnUnit,
    Rma,
    RmaLine,
    StockMovement,
    StoreCreditEntry,
)
from app.sync.ops import APPLIED
from tests.sync.centralkit import Central, central
from tests.sync.stationkit import Bench, add_bench

pytestmark = pytest.mark.postgres
__all__ = ["central"]

CLERK = "OP-1003"


def _desk(b: Bench) -> ReturnDesk:
    clerk = b.sign_in(CLERK)
    return ReturnDesk(lambda: b.ctx.uow(clerk))


def _gtin_of_line(b: Bench, number: str) -> tuple[str, int]:
    with b.ctx.sessions() as s:
        rma = s.scalars(select(Rma).where(Rma.number == number)).one()
        line = s.scalars(select(RmaLine).where(RmaLine.rma_id == rma.id)).first()
        assert line is not None
        from app.store.models import Product

        gtin = s.get_one(Product, line.product_id).gtin
        assert gtin
        return gtin, line.qty


def _receive(b: Bench, number: str) -> None:
    desk = _desk(b)
    gtin, qty = _gtin_of_line(b, number)
    opened = desk.scan(number)
    assert opened.outcome is Outcome.OPENED, opened.message
    for _ in range(qty):
        assert desk.scan(gtin).outcome is Outcome.COUNTED
    for u in desk.units:
        desk.grade(u.key, Condition.NEW_SEALED)
    desk.complete()


def _one(c: Central, model: Any, *where: Any) -> Any:
    with c.engine.connect() as conn:
        return conn.execute(select(model).where(*where)).one()


def in_turn(hub: Any, *benches: Bench) -> None:
    """Each desk comes back online and pushes in turn; the hub applies each before the next."""
    for b in benches:
        b.push()
        hub.drain()


def _results(c: Central, b: Bench) -> list[tuple[str, str]]:
    with c.engine.connect() as conn:
        return [
            (r, why)
            for r, why in conn.execute(
                select(OpResult.result, OpResult.reason).where(
                    OpResult.station_id == b.ctx.station_id
                )
            )
        ]


def _demo(c: Central) -> ReturnsDemo:
    return create_returns_demo(c.engine, orders=8)


def test_a_return_booked_in_at_two_desks_offline_is_received_once_and_raises_a_task(
    central: Central, tmp_path: Path
) -> None:
    demo = _demo(central)
    a = add_bench(central, "RETURNS-A", tmp_path)
    b = add_bench(central, "RETURNS-B", tmp_path)
    number = demo.rmas[0]
    # Both desks hold the RMA from their first download, and both book the parcel in offline.
    _receive(a, number)
    _receive(b, number)
    hub = central.hub()
    in_turn(hub, a, b)

    assert set(_results(central, a)) == {(APPLIED, "")}
    assert set(_results(central, b)) == {(APPLIED, "")}, "a receipt is a fact: never rejected"
    rma = _one(central, Rma, Rma.number == number)
    assert rma.status == "received"
    assert rma.received_station == a.ctx.station_id
    line = _one(central, RmaLine, RmaLine.rma_id == rma.id)
    assert line.qty_received == line.qty, "the units were counted once"
    with central.engine.connect() as conn:
        units = conn.execute(select(ReturnUnit).where(ReturnUnit.rma_id == rma.id)).all()
        tasks = conn.execute(
            select(ExceptionTask).where(ExceptionTask.kind == "double_receipt")
        ).all()
    counted = [u for u in units if not u.unexpected]
    assert len(counted) == line.qty and {u.station_id for u in counted} == {a.ctx.station_id}
    second = [u for u in units if u.unexpected]
    assert len(second) == line.qty and {u.station_id for u in second} == {b.ctx.station_id}
    [task] = tasks
    assert task.entity_id == rma.id and task.status == "open"
    assert task.details["station"] == "RETURNS-B"
    assert "received at RETURNS-A and again at RETURNS-B" in task.details["message"]

    # Desk B now shows central's view: received at A, its own units set apart, and the task.
    b.sync()
    with b.ctx.sessions() as s:
        local = s.scalars(select(Rma).where(Rma.number == number)).one()
        assert local.received_station == a.ctx.station_id
        mine = s.scalars(select(ReturnUnit).where(ReturnUnit.station_id == b.ctx.station_id)).all()
        assert mine and all(u.unexpected for u in mine)
    with b.ctx.uow(b.sign_in("OP-9001")) as uow:
        shown = [e for e in conflicts.list_exceptions(uow) if e.kind == "double_receipt"]
    assert len(shown) == 1 and number in shown[0].summary
    a.close()
    b.close()


def test_an_rma_made_at_one_desk_is_received_and_resolved_at_another(
    central: Central, tmp_path: Path
) -> None:
    demo = _demo(central)
    a = add_bench(central, "RETURNS-A", tmp_path)
    b = add_bench(central, "RETURNS-B", tmp_path)
    hub = central.hub()
    with a.ctx.sessions() as s:
        order, line = next(
            (o, ln)
            for o in s.scalars(select(Order).where(Order.number.in_(demo.delivered[3:-2])))
            for ln in o.lines
            if not ln.product.track_serial
        )
        line_id, qty, price = line.id, line.qty_ordered, line.unit_price_minor
    with a.ctx.uow(a.sign_in(CLERK)) as uow:
        view = rmas.create_rma(
            uow,
            rmas.RmaRequest(
                order.id,
                [rmas.RequestLine(line_id, qty, Reason.DAMAGED)],
                Resolution.EXCHANGE,
                shipping_paid_minor=495,
            ),
        )
    a.push()
    hub.drain()
    b.sync()
    _receive(b, view.number)
    with b.ctx.uow(b.sign_in(CLERK)) as uow:
        done = resolution.resolve(uow, view.id, Resolution.EXCHANGE)
    b.push()
    hub.drain()

    assert set(_results(central, a)) | set(_results(central, b)) == {(APPLIED, "")}
    central_rma = _one(central, Rma, Rma.id == view.id)
    assert central_rma.status == "resolved" and central_rma.received_station == b.ctx.station_id
    new = _one(central, Order, Order.number == done.exchange_order_number)
    assert new.status == "confirmed", "the exchange goes to picking and packing"
    with central.engine.connect() as conn:  # paid for by the unit it replaces
        prices = conn.scalars(
            select(OrderLine.unit_price_minor).where(OrderLine.order_id == new.id)
        )
        assert list(prices) == [price] and price
    refund = _one(central, ReturnRefund, ReturnRefund.rma_id == view.id)
    assert (refund.resolution, refund.amount_minor, refund.state) == ("exchange", 0, "done")
    note = _one(central, CustomerNotification, CustomerNotification.rma_id == view.id)
    assert note.status == "pending" and done.exchange_order_number in note.body
    with central.engine.connect() as conn:
        moved = conn.scalar(
            select(func.count()).where(
                StockMovement.ref == view.number, StockMovement.station_id == b.ctx.station_id
            )
        )
    assert moved == qty
    a.close()
    b.close()


def test_store_credit_from_a_return_is_in_the_central_ledger(
    central: Central, tmp_path: Path
) -> None:
    demo = _demo(central)
    a = add_bench(central, "RETURNS-A", tmp_path)
    _receive(a, demo.rmas[2])
    with a.ctx.sessions() as s:
        rma_id = s.scalars(select(Rma.id).where(Rma.number == demo.rmas[2])).one()
    with a.ctx.uow(a.sign_in(CLERK)) as uow:
        done = resolution.resolve(uow, rma_id, Resolution.STORE_CREDIT)
    a.push()
    central.hub().drain()
    assert set(_results(central, a)) == {(APPLIED, "")}
    with central.engine.connect() as conn:
        held = conn.scalar(
            select(func.sum(StoreCreditEntry.amount_minor)).where(
                StoreCreditEntry.account == done.store_credit_account
            )
        )
    assert held == done.amount_minor > 0
    a.close()


def test_a_return_credited_at_two_desks_offline_keeps_one_credit_spendable(
    central: Central, tmp_path: Path
) -> None:
    """Both desks book one parcel in and give store credit for it while offline: the first
    credit stands; the second is taken off its account again centrally (held) until a
    supervisor decides, and every station's till sees that balance."""
    demo = _demo(central)
    number = demo.rmas[2]
    credits = []
    benches = [add_bench(central, name, tmp_path) for name in ("RETURNS-A", "RETURNS-B")]
    for b in benches:
        _receive(b, number)
        with b.ctx.sessions() as s:
            rma_id = s.scalars(select(Rma.id).where(Rma.number == number)).one()
        with b.ctx.uow(b.sign_in(CLERK)) as uow:
            credits.append(resolution.resolve(uow, rma_id, Resolution.STORE_CREDIT))
    in_turn(central.hub(), *benches)

    def balances(engine: Any) -> list[int]:
        with engine.connect() as conn:
            return [
                int(
                    conn.scalar(
                        select(func.coalesce(func.sum(StoreCreditEntry.amount_minor), 0)).where(
                            StoreCreditEntry.account == c.store_credit_account
                        )
                    )
                )
                for c in credits
            ]

    first, second = credits
    assert first.amount_minor > 0 and second.amount_minor > 0
    assert balances(central.engine) == [first.amount_minor, 0]
    with central.engine.connect() as conn:
        task = conn.execute(
            select(ExceptionTask.details).where(ExceptionTask.kind == "double_resolution")
        ).scalar_one()
    assert task["message"] == (
        f"RMA {number} was resolved twice — the second store credit is held (taken off its "
        "account again); decide which one stands."
    )
    benches[1].sync()
    assert balances(benches[1].ctx.engine) == [first.amount_minor, 0]
    for b in benches:
        b.close()


def test_a_malformed_receipt_is_rejected_with_words(central: Central, tmp_path: Path) -> None:
    from tests.sync.centralkit import make_op

    demo = _demo(central)
    login = central.add_station("RETURNS-X")
    with central.engine.connect() as conn:
        rma_id = conn.scalar(select(Rma.id).where(Rma.number == demo.rmas[0]))
    op = make_op(
        login.station_id,
        1,
        "returns.received",
        {"rma_id": str(rma_id), "received_at": "2026-01-01T10:00:00+00:00", "units": []},
        entity="rma",
        entity_id=rma_id,
    )
    central.push(login, [op])
    central.hub().drain()
    [(result, reason)] = [
        (r.result, r.reason) for r in central.results(login.station_id) if r.op_id == op.op_id
    ]
    assert result == "rejected"
    assert "carries no units" in reason and "tell support" in reason


def test_the_desks_scans_reach_the_central_database(central: Central, tmp_path: Path) -> None:
    from app.store.models import ScanEvent

    demo = _demo(central)
    a = add_bench(central, "RETURNS-A", tmp_path)
    number = demo.rmas[0]
    desk = _desk(a)
    assert desk.scan("NO-SUCH-PARCEL-7").outcome is Outcome.REFUSED
    _receive(a, number)
    a.push()
    central.hub().drain()

    assert set(_results(central, a)) == {(APPLIED, "")}
    gtin, qty = _gtin_of_line(a, number)
    with central.engine.connect() as conn:
        rows = conn.execute(
            select(
                ScanEvent.raw, ScanEvent.outcome, ScanEvent.workflow, ScanEvent.station_id
            ).order_by(ScanEvent.at)
        ).all()
    assert [(r.raw, r.outcome) for r in rows] == [
        ("NO-SUCH-PARCEL-7", "rejected"),
        (number, "accepted"),
        *[(gtin, "accepted")] * qty,
    ]
    assert {(r.workflow, r.station_id) for r in rows} == {("returns", a.ctx.station_id)}
    a.close()


def test_a_refund_marked_paid_at_one_station_is_not_marked_again_at_another(
    central: Central, tmp_path: Path
) -> None:
    """Finance marks a refund paid at one station; another station, not yet synced, marks it
    failed. Central keeps it paid and refuses the second mark with words; the second station
    then shows it paid."""
    demo = _demo(central)
    a = add_bench(central, "RETURNS-A", tmp_path)
    b = add_bench(central, "RETURNS-B", tmp_path)
    hub = central.hub()
    number = demo.rmas[0]
    _receive(a, number)
    with a.ctx.sessions() as s:
        rma_id = s.scalars(select(Rma.id).where(Rma.number == number)).one()
    with a.ctx.uow(a.sign_in(CLERK)) as uow:
        resolution.resolve(uow, rma_id, Resolution.REFUND)
    a.push()
    hub.drain()
    b.sync()
    refund_id = _one(central, ReturnRefund, ReturnRefund.rma_id == rma_id).id
    with a.ctx.uow(a.sign_in("OP-9001")) as uow:
        resolution.mark_refund(uow, refund_id, resolution.PAID)
    with b.ctx.uow(b.sign_in("OP-9001")) as uow:  # B has not heard of the payment yet
        resolution.mark_refund(uow, refund_id, resolution.FAILED, "card expired")
    in_turn(hub, a, b)

    assert set(_results(central, a)) == {(APPLIED, "")}
    refused = [why for result, why in _results(central, b) if result != APPLIED]
    assert len(refused) == 1
    assert f"Refund {refund_id} was paid already" in refused[0]
    assert _one(central, ReturnRefund, ReturnRefund.id == refund_id).state == resolution.PAID
    b.sync()
    with b.ctx.sessions() as s:
        assert s.get_one(ReturnRefund, refund_id).state == resolution.PAID
    a.close()
    b.close()


def _exchange(b: Bench, number: str) -> str:
    """Receive an RMA at a desk and resolve it as an exchange; the exchange order's number."""
    _receive(b, number)
    with b.ctx.sessions() as s:
        rma_id = s.scalars(select(Rma.id).where(Rma.number == number)).one()
    with b.ctx.uow(b.sign_in(CLERK)) as uow:
        done = resolution.resolve(uow, rma_id, Resolution.EXCHANGE)
    assert done.exchange_order_number
    return done.exchange_order_number


def _orders_named(ctx_or_central: Any, *numbers: str) -> dict[str, str]:
    """Number → status of the orders with those numbers."""
    engine = ctx_or_central.engine
    with engine.connect() as conn:
        query = select(Order.number, Order.status).where(Order.number.in_(numbers))
        return {r.number: r.status for r in conn.execute(query)}


def _both_desks_see(a: Bench, b: Bench, orders: dict[str, str]) -> None:
    """After a sync, each desk holds these orders in these states; then both close."""
    a.sync()
    b.sync()
    assert _orders_named(a.ctx, *orders) == orders
    assert _orders_named(b.ctx, *orders) == orders
    a.close()
    b.close()


def test_two_desks_offline_exchange_two_returns_of_one_order(
    central: Central, tmp_path: Path
) -> None:
    """Each desk makes an RMA for part of one order while offline and resolves it as an
    exchange: the exchange orders are numbered after their RMAs, so both land centrally and
    reach both desks."""
    demo = _demo(central)
    a = add_bench(central, "RETURNS-A", tmp_path)
    b = add_bench(central, "RETURNS-B", tmp_path)
    hub = central.hub()
    with a.ctx.sessions() as s:
        order = next(
            o
            for o in s.scalars(select(Order).where(Order.number.in_(demo.delivered[3:-2])))
            if sum(1 for ln in o.lines if not ln.product.track_serial) > 1
        )
        order_id = order.id
        lines = sorted(
            (ln.line_no, ln.id, ln.qty_ordered) for ln in order.lines if not ln.product.track_serial
        )[:2]
    numbers = []
    for bench, (_no, line_id, qty) in zip((a, b), lines, strict=True):
        with bench.ctx.uow(bench.sign_in(CLERK)) as uow:
            view = rmas.create_rma(
                uow,
                rmas.RmaRequest(
                    order_id,
                    [rmas.RequestLine(line_id, qty, Reason.DAMAGED)],
                    Resolution.EXCHANGE,
                ),
            )
        numbers.append(view.number)
    exchange_a = _exchange(a, numbers[0])
    exchange_b = _exchange(b, numbers[1])
    in_turn(hub, a, b)

    assert set(_results(central, a)) | set(_results(central, b)) == {(APPLIED, "")}
    assert (exchange_a, exchange_b) == (f"{numbers[0]}-X", f"{numbers[1]}-X")
    both = {exchange_a: "confirmed", exchange_b: "confirmed"}
    assert _orders_named(central, exchange_a, exchange_b) == both
    _both_desks_see(a, b, both)


def test_one_return_exchanged_at_two_desks_offline(central: Central, tmp_path: Path) -> None:
    """Both desks book the same parcel in and exchange it while offline: each exchange order
    carries its desk's name, so the second lands beside the first (resolved twice: a task
    for a supervisor) and both desks take both orders from the feed."""
    demo = _demo(central)
    a = add_bench(central, "RETURNS-A", tmp_path)
    b = add_bench(central, "RETURNS-B", tmp_path)
    hub = central.hub()
    number = demo.rmas[0]
    exchange_a = _exchange(a, number)
    exchange_b = _exchange(b, number)
    in_turn(hub, a, b)

    assert set(_results(central, a)) | set(_results(central, b)) == {(APPLIED, "")}
    assert (exchange_a, exchange_b) == (f"{number}-X-RETURNS-A", f"{number}-X-RETURNS-B")
    # The second exchange waits on hold (it is not picked) until a supervisor decides.
    both = {exchange_a: "confirmed", exchange_b: "on_hold"}
    assert _orders_named(central, exchange_a, exchange_b) == both
    with central.engine.connect() as conn:
        [task] = conn.execute(
            select(ExceptionTask).where(ExceptionTask.kind == "double_resolution")
        ).all()
        hold = conn.scalar(select(Order.hold_reason).where(Order.number == exchange_b))
    assert task.details["message"] == (
        f"RMA {number} was resolved twice — the second exchange order is on hold (not picked); "
        "decide which one stands."
    )
    assert hold == (
        f"RMA {number} was resolved twice — a supervisor decides which resolution stands"
    )
    _both_desks_see(a, b, both)


def test_an_exchange_numbered_like_an_order_central_holds_is_kept_under_a_free_number(
    central: Central, tmp_path: Path
) -> None:
    """A resolution queued by a desk that numbered exchanges after their order (before they
    were numbered after their RMA) may name an order number central holds already: central
    keeps the exchange under the number with ``-2`` (its notification says so too) instead
    of refusing the resolution, and the desk takes that number from the feed."""
    from app.store.models import OutboxOp

    demo = _demo(central)
    a = add_bench(central, "RETURNS-A", tmp_path)
    b = add_bench(central, "RETURNS-B", tmp_path)
    hub = central.hub()
    exchange_a = _exchange(a, demo.rmas[0])
    exchange_b = _exchange(b, demo.rmas[1])
    with b.ctx.sessions() as s, s.begin():
        op = s.scalars(select(OutboxOp).where(OutboxOp.kind == "returns.resolved")).one()
        payload = dict(op.payload)
        payload["exchange_order"] = {**payload["exchange_order"], "number": exchange_a}
        note = dict(payload["notification"])
        note["body"] = note["body"].replace(exchange_b, exchange_a)
        payload["notification"] = note
        op.payload = payload
        rma_id = uuid.UUID(payload["rma_id"])
    in_turn(hub, a, b)

    assert set(_results(central, a)) | set(_results(central, b)) == {(APPLIED, "")}
    kept = f"{exchange_a}-2"
    assert _orders_named(central, exchange_a, kept) == {exchange_a: "confirmed", kept: "confirmed"}
    body = _one(central, CustomerNotification, CustomerNotification.rma_id == rma_id).body
    assert f"your replacement is on its way as order {kept}." in body
    b.sync()
    assert _orders_named(b.ctx, exchange_a, kept, exchange_b) == {
        exchange_a: "confirmed",
        kept: "confirmed",
    }
    a.close()
    b.close()

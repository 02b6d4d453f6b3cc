"""Resolving a received return: a refund by the policy (recorded to be paid), store credit the
counter takes as a tender, an exchange order that goes to picking; never more than was paid;
every resolution audited as an operation with a customer notification; and the reports."""

from __future__ import annotations

import csv
import io
import uuid

import pytest
from sqlalchemy import select

from app.bootstrap import StationContext
from app.domain.errors import InvalidTransitionError, PermissionDeniedError, ValidationError
from app.domain.money import money
from app.domain.returns import Condition, Resolution
from app.services.counter import store_credit
from app.services.returns import reports, resolution, rmas
from app.services.returns.views import ResolutionDone
from app.services.views import OperatorView
from app.store.models import (
    AuditEvent,
    CustomerNotification,
    Order,
    ReturnRefund,
    Rma,
    RmaLine,
)
from tests.returns_kit import (
    SUPERVISOR,
    Desk,
    make_rma,
    one_product_on_two_lines,
    open_desk,
    order,
    outbox,
    paid_for,
    plain_order_number,
    product_not_on,
    receive_all,
    receive_every_line,
    rma_line,
    sign_in,
)


def _rma_id(ctx: StationContext, number: str) -> uuid.UUID:
    with ctx.sessions() as s:
        return s.scalars(select(Rma.id).where(Rma.number == number)).one()


def test_a_refund_follows_the_policy_and_waits_to_be_paid(station: StationContext) -> None:
    d = open_desk(station)
    number = receive_all(d, d.demo.rmas[0], "opened")  # changed mind: 10 % fee, no shipping
    _id, line, _product = rma_line(station, number)
    goods = line.unit_price_minor * line.qty
    fee = (goods * 1_000 + 5_000) // 10_000
    ops_before = len(outbox(station))
    with station.uow(d.clerk) as uow:
        done = resolution.resolve(uow, _rma_id(station, number), Resolution.REFUND)

    assert done.amount_minor == goods - fee
    assert done.breakdown["restocking_fee_minor"] == fee
    assert done.breakdown["shipping_minor"] == 0
    assert [o.kind for o in outbox(station)[ops_before:]] == ["returns.resolved"]
    with station.sessions() as s:
        refund = s.scalars(select(ReturnRefund)).one()
        assert (refund.state, refund.amount_minor) == ("to_be_paid", goods - fee)
        note = s.scalars(select(CustomerNotification)).one()
        assert note.status == "pending" and number in note.subject
        assert "we are refunding EUR" in note.body
        assert s.scalars(
            select(AuditEvent.action).where(AuditEvent.action == "returns.resolved")
        ).one()
        refund_id = refund.id

    clerk_cannot = pytest.raises(PermissionDeniedError, match="needs the supervisor")
    with clerk_cannot, station.uow(d.clerk) as uow:
        resolution.mark_refund(uow, refund_id, resolution.PAID)
    boss = sign_in(station, SUPERVISOR)
    with station.uow(boss) as uow:
        resolution.mark_refund(uow, refund_id, resolution.PAID)
    with station.sessions() as s:
        assert s.get_one(ReturnRefund, refund_id).state == "paid"


def test_a_defective_item_refunds_the_shipping_too(station: StationContext) -> None:
    d = open_desk(station)
    number = receive_all(d, d.demo.rmas[1], "defective")  # reason defective: free
    _id, line, _product = rma_line(station, number)
    with station.uow(d.clerk) as uow:
        done = resolution.resolve(uow, _rma_id(station, number), Resolution.REFUND)
    assert done.breakdown["restocking_fee_minor"] == 0
    assert done.breakdown["shipping_minor"] == 495
    assert done.amount_minor == line.unit_price_minor * line.qty + 495


def test_store_credit_is_a_balance_the_counter_takes(station: StationContext) -> None:
    d = open_desk(station)
    number = receive_all(d, d.demo.rmas[2], "new_sealed")  # wrong item: free
    with station.uow(d.clerk) as uow:
        done = resolution.resolve(uow, _rma_id(station, number), Resolution.STORE_CREDIT)
    assert done.store_credit_account and done.amount_minor > 0
    kinds = [o.kind for o in outbox(station)[-2:]]
    assert kinds == ["store_credit.issued", "returns.resolved"]
    with station.uow(d.clerk) as uow:
        held, kind, currency = store_credit.balance(uow, done.store_credit_account.lower())
        assert (held, kind, currency) == (done.amount_minor, "store_credit", "EUR")
        store_credit.redeem(uow, done.store_credit_account, held, uuid.uuid4(), "EUR")
    with station.uow(d.clerk) as uow:
        assert store_credit.balance(uow, done.store_credit_account)[0] == 0


def test_an_exchange_is_a_new_order_ready_for_picking(station: StationContext) -> None:
    d = open_desk(station)
    number = receive_all(d, d.demo.rmas[0], "used")
    _id, line, product = rma_line(station, number)
    with station.uow(d.clerk) as uow:
        done = resolution.resolve(uow, _rma_id(station, number), Resolution.EXCHANGE)
    assert done.amount_minor == 0 and done.exchange_order_number
    with station.sessions() as s:
        new = s.scalars(select(Order).where(Order.number == done.exchange_order_number)).one()
        assert new.status == "confirmed"
        assert [(ln.product_id, ln.qty_ordered) for ln in new.lines] == [(product.id, line.qty)]
        # The replacement was paid for by the unit it replaces: returned, it pays that back.
        assert [ln.unit_price_minor for ln in new.lines] == [line.unit_price_minor]
    op = outbox(station)[-1]
    assert op.kind == "returns.resolved"
    assert op.payload["exchange_order"]["number"] == done.exchange_order_number
    assert [ln["unit_price_minor"] for ln in op.payload["exchange_order"]["lines"]] == [
        line.unit_price_minor
    ]


def test_one_product_bought_at_two_prices_is_replaced_at_each_price(
    station: StationContext,
) -> None:
    """The same product on two lines of an order at two prices (a second one discounted): its
    exchange has a line for each price, so a later return of either pays back what was paid."""
    d = open_desk(station)
    number, first, second = one_product_on_two_lines(d, cheaper_by=100)
    cheaper = first.paid_per_unit - 100
    rma = make_rma(d, number, [(first.line_no, first.qty_ordered), (second.line_no, 1)])
    receive_every_line(d, rma, "used")
    with station.uow(d.clerk) as uow:
        done = resolution.resolve(uow, _rma_id(station, rma), Resolution.EXCHANGE)

    with station.sessions() as s:
        new = s.scalars(select(Order).where(Order.number == done.exchange_order_number)).one()
        got = sorted((ln.product_id, ln.qty_ordered, ln.unit_price_minor) for ln in new.lines)
    assert got == sorted(
        [
            (first.product_id, first.qty_ordered, first.paid_per_unit),
            (first.product_id, 1, cheaper),
        ]
    )


def test_a_partial_refund_and_never_more_than_was_paid(station: StationContext) -> None:
    d = open_desk(station)
    number = receive_all(d, d.demo.rmas[1], "defective")
    rma_id = _rma_id(station, number)
    with station.uow(d.clerk) as uow:
        most = resolution.quote(uow, rma_id).total_minor
    with (
        pytest.raises(ValidationError, match="may refund up to EUR"),
        station.uow(d.clerk) as uow,
    ):
        resolution.resolve(uow, rma_id, Resolution.REFUND, amount_minor=most + 1)
    with station.uow(d.clerk) as uow:
        done = resolution.resolve(uow, rma_id, Resolution.REFUND, amount_minor=most - 100)
    assert done.amount_minor == most - 100
    with (
        pytest.raises(ValidationError, match="is resolved already"),
        station.uow(d.clerk) as uow,
    ):
        resolution.resolve(uow, rma_id, Resolution.REFUND)


def test_a_refund_pays_back_the_price_paid_not_todays_price(station: StationContext) -> None:
    """The catalogue's price moves after the sale: a raise must not pay back more than the
    customer paid, a cut must not pay back less."""
    from sqlalchemy import update

    from app.store.models import Product

    d = open_desk(station)
    number = plain_order_number(d)
    o = order(station, number)
    first, second = o.lines[0], o.lines[1]
    assert first.unit_price_minor is not None and second.unit_price_minor is not None
    with station.sessions.begin() as s:
        s.execute(
            update(Product)
            .where(Product.id == first.product_id)
            .values(price_minor=first.unit_price_minor * 3)
        )
        s.execute(update(Product).where(Product.id == second.product_id).values(price_minor=1))
    rma = make_rma(d, number, [(first.line_no, 1), (second.line_no, 1)], "defective")
    with station.sessions() as s:
        prices = {
            ln.order_line_id: ln.unit_price_minor
            for ln in s.scalars(select(RmaLine).join(Rma).where(Rma.number == rma))
        }
    assert prices == {first.id: first.unit_price_minor, second.id: second.unit_price_minor}

    receive_every_line(d, rma, "defective")
    with station.uow(d.clerk) as uow:
        done = resolution.resolve(uow, _rma_id(station, rma), Resolution.REFUND)
    paid = first.unit_price_minor + second.unit_price_minor
    assert done.amount_minor == paid + 495  # defective: free, and the shipping goes back
    assert done.amount_minor <= paid_for(station, number, 495)


def test_an_unannounced_return_is_priced_at_what_was_paid(station: StationContext) -> None:
    """A parcel with no RMA opens the order's lines as the desk's expected lines: they carry
    the price paid too, so the RMA the desk makes of them refunds that."""
    from sqlalchemy import update

    from app.store.models import Product

    d = open_desk(station)
    number = plain_order_number(d)
    o = order(station, number)
    line = o.lines[0]
    assert line.unit_price_minor is not None
    with station.sessions.begin() as s:
        s.execute(
            update(Product)
            .where(Product.id == line.product_id)
            .values(price_minor=line.unit_price_minor * 5)
        )
    opened = d.desk.scan(number)
    assert opened.ok, opened.message
    expected = {ln.order_line_id: ln.unit_price_minor for ln, _n in d.desk.expected()}
    assert expected[line.id] == line.unit_price_minor
    gtin = line.product.gtin
    assert gtin
    assert d.desk.scan(gtin).ok
    for u in d.desk.units:
        d.desk.grade(u.key, Condition.NEW_SEALED)
    receipt = d.desk.complete()
    with station.sessions() as s:
        prices = list(
            s.scalars(select(RmaLine.unit_price_minor).where(RmaLine.rma_id == receipt.rma_id))
        )
    assert prices == [line.unit_price_minor]


def test_an_rma_not_yet_received_cannot_be_resolved(station: StationContext) -> None:
    d = open_desk(station)
    with (
        pytest.raises(ValidationError, match="has not been received — book the parcel in"),
        station.uow(d.clerk) as uow,
    ):
        resolution.resolve(uow, _rma_id(station, d.demo.rmas[0]), Resolution.REFUND)


def test_reports_on_screen_and_as_csv(station: StationContext) -> None:
    d = open_desk(station)
    first = receive_all(d, d.demo.rmas[0], "opened")
    receive_all(d, d.demo.rmas[1], "defective")
    with station.uow(d.clerk) as uow:
        resolution.resolve(uow, _rma_id(station, first), Resolution.REFUND)
    _id, line, product = rma_line(station, first)
    with station.uow(d.clerk) as uow:
        r = reports.report(uow)
    by_sku = {p.sku: p for p in r.products}
    assert by_sku[product.sku].returned == line.qty
    assert by_sku[product.sku].by_reason == {"changed_mind": line.qty}
    assert by_sku[product.sku].shipped >= line.qty
    assert r.conditions["opened"] >= line.qty and r.conditions["defective"] >= 1
    assert r.refunds[("refund", "to_be_paid")][0] == 1
    assert len(r.resolution_hours) == 1 and r.resolution_hours[0] >= 0

    rows = list(csv.reader(io.StringIO(reports.to_csv(r))))
    rate_rows = [row for row in rows if row and row[0] == "return_rate"]
    assert any(row[1] == product.sku and row[4] == str(line.qty) for row in rate_rows)
    assert next(row[:3] for row in rows if row and row[0] == "refund_totals") == [
        "refund_totals",
        "refund",
        "to_be_paid",
    ]


def test_policy_is_set_by_a_supervisor_only(station: StationContext) -> None:
    from app.domain.returns import Policy

    d = open_desk(station)
    with (
        pytest.raises(PermissionDeniedError, match="override an exception"),
        station.uow(d.clerk) as uow,
    ):
        rmas.set_policy(uow, Policy(window_days=14))
    boss = sign_in(station, SUPERVISOR)
    with station.uow(boss) as uow:
        rmas.set_policy(uow, Policy(window_days=14, restocking_fee_minor=250))
    with station.uow(boss) as uow:
        p = rmas.policy(uow)
    assert (p.window_days, p.restocking_fee_minor) == (14, 250)
    assert outbox(station)[-1].kind == "returns.policy_set"


def _refunds_of(ctx: StationContext, order_number: str) -> list[ReturnRefund]:
    with ctx.sessions() as s:
        return list(
            s.scalars(
                select(ReturnRefund)
                .join(Rma, Rma.id == ReturnRefund.rma_id)
                .join(Order, Order.id == Rma.order_id)
                .where(Order.number == order_number)
                .order_by(ReturnRefund.created_at)
            )
        )


def _two_returns_of_one_order(d: Desk) -> tuple[str, str, str]:
    """(order, RMA A for its first line, RMA B for the rest): every unit back as defective,
    both with the order's shipping, both received."""
    number = plain_order_number(d)
    lines = sorted((ln.line_no, ln.qty_ordered) for ln in order(d.ctx, number).lines)
    a = make_rma(d, number, lines[:1])
    b = make_rma(d, number, lines[1:])
    receive_every_line(d, a, "defective")
    receive_every_line(d, b, "defective")
    return number, a, b


def _a_refund_that_failed(
    d: Desk,
) -> tuple[str, str, int, OperatorView, ResolutionDone, ReturnRefund]:
    """Two returns of one order; A refunded, and the refund marked failed by a supervisor:
    (order number, B's RMA, what the order was paid, the supervisor, A's resolution, A's
    refund row)."""
    station = d.ctx
    number, a, b = _two_returns_of_one_order(d)
    paid = paid_for(station, number, 495)
    boss = sign_in(station, SUPERVISOR)
    with station.uow(d.clerk) as uow:
        first = resolution.resolve(uow, _rma_id(station, a), Resolution.REFUND)
    [refund_a] = _refunds_of(station, number)
    with station.uow(boss) as uow:
        resolution.mark_refund(uow, refund_a.id, resolution.FAILED, "card expired")
    return number, b, paid, boss, first, refund_a


def test_a_failed_refund_still_counts_so_the_shipping_goes_back_once(
    station: StationContext,
) -> None:
    """A's refund failed and may be paid on a later try: B's refund leaves A's money and
    shipping out, so when A is paid after all the order has been paid back exactly once."""
    d = open_desk(station)
    number, b, paid, boss, first, refund_a = _a_refund_that_failed(d)
    assert first.breakdown["shipping_minor"] == 495

    with station.uow(d.clerk) as uow:
        second = resolution.resolve(uow, _rma_id(station, b), Resolution.REFUND)
    with station.uow(boss) as uow:
        resolution.mark_refund(uow, refund_a.id, resolution.PAID, "second try")

    assert second.breakdown["shipping_minor"] == 0, "the shipping is A's to pay back"
    assert first.amount_minor + second.amount_minor == paid
    rows = _refunds_of(station, number)
    assert [(r.state, r.amount_minor) for r in rows] == [
        ("paid", first.amount_minor),
        ("to_be_paid", paid - first.amount_minor),
    ]
    assert sum(r.breakdown["shipping_minor"] for r in rows) == 495


@pytest.mark.parametrize("shipping_too", [True, False], ids=["shipping", "amount"])
def test_a_failed_refund_is_not_marked_paid_when_the_order_was_paid_back_meanwhile(
    station: StationContext, shipping_too: bool
) -> None:
    """B's refund came from another desk while A's refund had failed (it did not know of A):
    marking A paid now would pay the shipping back twice, or more than the order was paid.
    Refused with words, A stays failed and nothing is recorded."""
    d = open_desk(station)
    number, b, paid, boss, first, refund_a = _a_refund_that_failed(d)
    shipping = 495 if shipping_too else 0
    b_amount = paid - first.amount_minor + (shipping or 100)
    with station.sessions() as s, s.begin():  # as the feed writes the other desk's refund
        s.add(
            ReturnRefund(
                id=uuid.uuid4(),
                rma_id=_rma_id(station, b),
                resolution="refund",
                amount_minor=b_amount,
                currency="EUR",
                state="to_be_paid",
                breakdown={"shipping_minor": shipping, "paid_back_minor": b_amount},
            )
        )
    ops_before = len(outbox(station))

    with (
        pytest.raises(InvalidTransitionError) as refused,
        station.uow(boss) as uow,
    ):
        resolution.mark_refund(uow, refund_a.id, resolution.PAID, "second try")

    what = (
        f"the shipping of order {number} (EUR 4.95) is paid back on RMA {b} already"
        if shipping_too
        else f"order {number} was paid {money(paid)} and {money(b_amount)} of it is refunded "
        f"or to be paid on RMA {b}: {money(first.amount_minor)} more would pay back more than "
        "the customer paid"
    )
    assert refused.value.message == (
        f"Refund {refund_a.id} is not marked paid: {what} — leave it failed and ask a "
        "supervisor to settle it with the customer."
    )
    with station.sessions() as s:
        assert s.get_one(ReturnRefund, refund_a.id).state == "failed"
    assert len(outbox(station)) == ops_before, "a refused mark records nothing"


def test_two_returns_of_one_order_each_get_their_own_exchange_order(
    station: StationContext,
) -> None:
    """Each exchange order is numbered after its RMA, so the second return of an order is
    exchanged as well as the first, each order with its own items."""
    d = open_desk(station)
    number, a, b = _two_returns_of_one_order(d)
    with station.uow(d.clerk) as uow:
        first = resolution.resolve(uow, _rma_id(station, a), Resolution.EXCHANGE)
    with station.uow(d.clerk) as uow:
        second = resolution.resolve(uow, _rma_id(station, b), Resolution.EXCHANGE)

    assert first.exchange_order_number == f"{a}-X"
    assert second.exchange_order_number == f"{b}-X"
    o = order(station, number)
    lines = sorted((ln.line_no, ln.product.sku, ln.qty_ordered) for ln in o.lines)
    for done, wanted in ((first, lines[:1]), (second, lines[1:])):
        with station.sessions() as s:
            new = s.scalars(select(Order).where(Order.number == done.exchange_order_number)).one()
            got = sorted((ln.product.sku, ln.qty_ordered) for ln in new.lines)
            assert (new.status, got) == ("confirmed", sorted((sku, q) for _n, sku, q in wanted))
            note = s.scalars(
                select(CustomerNotification)
                .join(Rma, Rma.id == CustomerNotification.rma_id)
                .where(Rma.number == done.rma_number)
            ).one()
        assert f"your replacement is on its way as order {done.exchange_order_number}." in (
            note.body
        )


def _nothing_recorded(ctx: StationContext, rma_id: uuid.UUID, ops_before: int) -> None:
    with ctx.sessions() as s:
        assert s.get_one(Rma, rma_id).status == "received", "still waiting to be resolved"
        assert s.scalars(select(ReturnRefund).where(ReturnRefund.rma_id == rma_id)).all() == []
        notes = s.scalars(
            select(CustomerNotification).where(CustomerNotification.rma_id == rma_id)
        ).all()
        assert notes == [], "the customer is not told of a refund of nothing"
    assert len(outbox(ctx)) == ops_before


def test_a_parcel_of_unexpected_items_refunds_nothing_and_says_so(
    station: StationContext,
) -> None:
    """Nothing that came back was on the order: a refund of EUR 0.00 is not recorded (nor
    store credit), and the words say why and what to do."""
    d = open_desk(station)
    number = plain_order_number(d)
    stranger = product_not_on(station, number)
    assert stranger.gtin
    assert d.desk.scan(d.demo.tracking[number]).ok
    assert not d.desk.scan(stranger.gtin).ok
    d.desk.receive_unexpected()
    d.desk.grade(d.desk.units[0].key, Condition.NEW_SEALED)
    rma = d.desk.complete().rma_number
    rma_id = _rma_id(station, rma)
    ops_before = len(outbox(station))

    for way, words in (
        (Resolution.REFUND, "no refund is recorded"),
        (Resolution.STORE_CREDIT, "there is no credit to give"),
    ):
        with pytest.raises(ValidationError) as refused, station.uow(d.clerk) as uow:
            resolution.resolve(uow, rma_id, way)
        assert refused.value.message == (
            f"RMA {rma} refunds nothing: nothing on it came back as expected — {words}; tell "
            "the customer, and leave the items received as unexpected to a supervisor."
        )
    _nothing_recorded(station, rma_id, ops_before)


def test_a_return_the_restocking_fee_takes_whole_refunds_nothing_and_says_so(
    station: StationContext,
) -> None:
    from app.domain.returns import Policy

    d = open_desk(station)
    boss = sign_in(station, SUPERVISOR)
    with station.uow(boss) as uow:
        rmas.set_policy(uow, Policy(restocking_fee_bp=10_000))
    number = receive_all(d, d.demo.rmas[0], "new_sealed")  # changed mind: the fee applies
    rma_id = _rma_id(station, number)
    with station.uow(d.clerk) as uow:
        assert resolution.quote(uow, rma_id).total_minor == 0
    ops_before = len(outbox(station))

    with pytest.raises(ValidationError) as refused, station.uow(d.clerk) as uow:
        resolution.resolve(uow, rma_id, Resolution.REFUND)

    assert refused.value.message == (
        f"RMA {number} refunds nothing: the deductions for the items' condition and the "
        "restocking fee take all of it — no refund is recorded; offer an exchange (F8), or "
        "tell the customer why nothing is paid back."
    )
    _nothing_recorded(station, rma_id, ops_before)
    with station.uow(d.clerk) as uow:
        done = resolution.resolve(uow, rma_id, Resolution.EXCHANGE)
    assert done.exchange_order_number == f"{number}-X-PACK-01"

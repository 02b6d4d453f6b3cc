"""Resolving a received return: a refund (recorded for the payment system: to be paid → paid
or failed), store credit (the counter's own ledger, so the till takes it as a tender), or an
exchange (a new order for the same items, confirmed, so it goes to picking and packing).

The refund follows the policy (app/domain/returns.py: calculate_refund) over the units that
were on the RMA; units received as unexpected are refunded nothing. The order is never
refunded more than it was paid, counting every earlier refund of it (a failed one too: it may
be marked paid on a later try), and its shipping is paid back once. Each resolution records
a customer notification for the sender and is one ``returns.resolved`` operation.
"""

from __future__ import annotations

import uuid
from collections import Counter
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.domain import returns as rules
from app.domain.errors import InvalidTransitionError, NotFoundError, ValidationError
from app.domain.money import money
from app.domain.orders import OrderStatus
from app.domain.roles import Permission
from app.ids import new_id
from app.services import auth
from app.services.counter import store_credit
from app.services.returns import rmas
from app.services.returns.views import RefundQuote, ResolutionDone
from app.store.models import (
    Customer,
    CustomerNotification,
    Order,
    OrderLine,
    Product,
    ReturnRefund,
    ReturnUnit,
    Rma,
    RmaLine,
    Station,
)
from app.store.uow import UnitOfWork

RESOLVED = "returns.resolved"
REFUND_MARKED = "returns.refund_marked"
TO_BE_PAID, PAID, FAILED, DONE = "to_be_paid", "paid", "failed", "done"
HELD = "held"  # set centrally: a second resolution of one return (never paid)
MONEY_BACK = frozenset({rules.Resolution.REFUND.value, rules.Resolution.STORE_CREDIT.value})


def order_paid(s: Session, order: Order, rma: Rma) -> int:
    """What the order was paid: its shipped units at the prices they were sold for, and the
    shipping."""
    shipped = OrderLine.qty_ordered - OrderLine.qty_missing
    paid = func.coalesce(OrderLine.unit_price_minor, Product.price_minor)
    goods = s.scalar(
        select(func.coalesce(func.sum(shipped * paid), 0))
        .select_from(OrderLine)
        .join(Product, Product.id == OrderLine.product_id)
        .where(OrderLine.order_id == order.id)
    )
    shipping = s.scalar(
        select(func.coalesce(func.max(Rma.shipping_paid_minor), 0)).where(Rma.order_id == order.id)
    )
    return int(goods or 0) + max(int(shipping or 0), rma.shipping_paid_minor)


def _earlier(uow: UnitOfWork, order_id: uuid.UUID) -> tuple[int, bool]:
    """(money refunded on the order so far, whether its shipping was refunded): every refund
    and store credit of it, whatever its state — a failed refund may still be marked paid on
    a later try, and a held one may be the one that stands."""
    rows = uow.session.execute(
        select(ReturnRefund.amount_minor, ReturnRefund.breakdown)
        .join(Rma, Rma.id == ReturnRefund.rma_id)
        .where(
            Rma.order_id == order_id,
            ReturnRefund.resolution.in_(sorted(MONEY_BACK)),
        )
    ).all()
    return sum(int(a) for a, _b in rows), any(_shipping(b) > 0 for _a, b in rows)


def quote(uow: UnitOfWork, rma_id: uuid.UUID) -> rules.Refund:
    """The refund the policy gives this received return now."""
    rma = _received(uow, rma_id)
    return _quote(uow, rma)


def refund_quote(uow: UnitOfWork, rma_id: uuid.UUID) -> RefundQuote:
    """What the desk may pay back for this received return: the most, for a partial refund."""
    auth.check(uow, Permission.RECEIVE_RETURN)
    rma = _received(uow, rma_id)
    refund = _quote(uow, rma)
    return RefundQuote(rma.number, rma.currency, refund.total_minor, refund.as_dict())


def _quote(uow: UnitOfWork, rma: Rma) -> rules.Refund:
    s = uow.session
    order = s.get_one(Order, rma.order_id)
    units = [
        rules.RefundUnit(
            line.unit_price_minor, rules.Reason(line.reason), rules.Condition(u.condition)
        )
        for u, line in s.execute(
            select(ReturnUnit, RmaLine)
            .join(RmaLine, RmaLine.id == ReturnUnit.rma_line_id)
            .where(ReturnUnit.rma_id == rma.id)
        ).all()
    ]
    already, shipping_done = _earlier(uow, order.id)
    return rules.calculate_refund(
        rmas.policy(uow),
        units,
        order_paid_minor=order_paid(s, order, rma),
        already_refunded_minor=already,
        shipping_paid_minor=rma.shipping_paid_minor,
        shipping_refunded=shipping_done,
    )


def _received(uow: UnitOfWork, rma_id: uuid.UUID) -> Rma:
    rma = uow.session.get(Rma, rma_id)
    if rma is None:
        raise NotFoundError("That return is not on this station.")
    if rma.status == rmas.AUTHORISED:
        raise ValidationError(f"RMA {rma.number} has not been received — book the parcel in first.")
    if rma.status != rmas.RECEIVED:
        raise ValidationError(f"RMA {rma.number} is {rma.status} already — nothing to resolve.")
    return rma


def resolve(
    uow: UnitOfWork,
    rma_id: uuid.UUID,
    resolution: rules.Resolution,
    *,
    amount_minor: int | None = None,
) -> ResolutionDone:
    """Resolve a received return. ``amount_minor`` pays back less than the policy gives (a
    partial refund); never more."""
    auth.check(uow, Permission.RECEIVE_RETURN)
    s = uow.session
    rma = _received(uow, rma_id)
    order = s.get_one(Order, rma.order_id)
    refund = _quote(uow, rma)
    amount = refund.total_minor
    if resolution is not rules.Resolution.EXCHANGE and amount <= 0:
        raise _refunds_nothing(rma, order, refund, resolution)
    if resolution is rules.Resolution.EXCHANGE:
        amount = 0
    elif amount_minor is not None:
        if not 0 < amount_minor <= refund.total_minor:
            raise ValidationError(
                f"RMA {rma.number} may refund up to {money(refund.total_minor, rma.currency)} — "
                "type an amount above zero and no more than that."
            )
        amount = amount_minor
    account: str | None = None
    exchange: Order | None = None
    state = DONE
    if resolution is rules.Resolution.REFUND:
        state = TO_BE_PAID
    elif resolution is rules.Resolution.STORE_CREDIT:
        account, _entry = store_credit.issue(
            uow, amount, currency=rma.currency, reason=f"return {rma.number}"
        )
    else:
        exchange = _exchange_order(uow, rma, order)
    row = ReturnRefund(
        id=new_id(),
        rma_id=rma.id,
        warehouse_id=rma.warehouse_id,
        resolution=resolution.value,
        amount_minor=amount,
        currency=rma.currency,
        state=state,
        breakdown={**refund.as_dict(), "paid_back_minor": amount},
        store_credit_account=account,
        exchange_order_id=exchange.id if exchange else None,
        created_at=uow.now,
        station_id=uow.actor.station_id,
        operator=uow.actor.operator_name,
    )
    rma.status = rmas.RESOLVED
    rma.resolved_at = uow.now
    rma.version += 1
    s.add(row)
    note = _notify(uow, rma, resolution, amount, account, exchange)
    s.flush()
    uow.record(
        RESOLVED,
        {
            "rma_id": str(rma.id),
            "resolved_at": uow.now.isoformat(),
            "operator_name": uow.actor.operator_name,
            "refund": refund_payload(row),
            "notification": notification_payload(note),
            "exchange_order": _order_payload(uow, exchange) if exchange else None,
        },
        entity="rma",
        entity_id=rma.id,
    )
    return ResolutionDone(
        rma.number,
        resolution.value,
        amount,
        rma.currency,
        dict(row.breakdown),
        account,
        exchange.number if exchange else None,
    )


def _refunds_nothing(
    rma: Rma, order: Order, refund: rules.Refund, resolution: rules.Resolution
) -> ValidationError:
    """The refusal of a refund or store credit of nothing: why it is nothing, what to do."""
    if refund.merchandise_minor == 0:
        why = "nothing on it came back as expected"
        then = "tell the customer, and leave the items received as unexpected to a supervisor"
    elif refund.capped_minor > 0:
        why = f"order {order.number} is paid back in full already"
        then = "tell the customer nothing more is owed on it"
    else:
        why = "the deductions for the items' condition and the restocking fee take all of it"
        then = "offer an exchange (F8), or tell the customer why nothing is paid back"
    what = (
        "no refund is recorded"
        if resolution is rules.Resolution.REFUND
        else "there is no credit to give"
    )
    return ValidationError(f"RMA {rma.number} refunds nothing: {why} — {what}; {then}.")


def check_mark(s: Session, row: ReturnRefund, state: str) -> None:
    """Whether a refund may be marked ``state`` now: the same rule at the station and the
    hub (where another station's mark, or a hold, may have arrived first). A failed refund
    is marked paid only while the order's other refunds leave room for it: another desk may
    have paid the order back meanwhile without knowing of it."""
    if state not in (PAID, FAILED):
        raise ValidationError("A refund is marked paid or failed.")
    if row.resolution != rules.Resolution.REFUND.value:
        raise InvalidTransitionError(
            f"{row.id} is {row.resolution.replace('_', ' ')}, not a refund to pay — "
            "nothing to mark."
        )
    if row.state == PAID:
        raise InvalidTransitionError(
            f"Refund {row.id} was paid already — a paid refund is not marked {state} again; "
            "if the money did not arrive, ask the payment system's team."
        )
    if row.state == HELD:
        raise InvalidTransitionError(
            f"Refund {row.id} is held: its return was resolved twice — a supervisor decides "
            "which refund stands before anything is paid."
        )
    if row.state == FAILED and state == PAID:
        over = _paid_back_elsewhere(s, row)
        if over:
            raise InvalidTransitionError(
                f"Refund {row.id} is not marked paid: {over} — leave it failed and ask a "
                "supervisor to settle it with the customer."
            )


def _paid_back_elsewhere(s: Session, row: ReturnRefund) -> str | None:
    """Why paying ``row`` now would pay its order back twice (its shipping again, or more
    than the customer paid, counting the order's other refunds paid or to be paid and its
    store credit); None when it fits."""
    rma = s.get_one(Rma, row.rma_id)
    order = s.get_one(Order, rma.order_id)
    others = s.execute(
        select(ReturnRefund.amount_minor, ReturnRefund.breakdown, Rma.number)
        .join(Rma, Rma.id == ReturnRefund.rma_id)
        .where(
            Rma.order_id == order.id,
            ReturnRefund.id != row.id,
            ReturnRefund.resolution.in_(sorted(MONEY_BACK)),
            ReturnRefund.state.in_((TO_BE_PAID, PAID, DONE)),
        )
        .order_by(Rma.number)
    ).all()
    shipping = _shipping(row.breakdown)
    shipped_back = [n for _a, b, n in others if _shipping(b) > 0]
    if shipping > 0 and shipped_back:
        return (
            f"the shipping of order {order.number} ({money(shipping, row.currency)}) is paid "
            f"back on RMA {shipped_back[0]} already"
        )
    paid = order_paid(s, order, rma)
    out = sum(int(a) for a, _b, _n in others)
    if out + row.amount_minor <= paid:
        return None
    on = ", ".join(dict.fromkeys(n for _a, _b, n in others))
    return (
        f"order {order.number} was paid {money(paid, row.currency)} and "
        f"{money(out, row.currency)} of it is refunded or to be paid on RMA {on}: "
        f"{money(row.amount_minor, row.currency)} more would pay back more than the customer "
        "paid"
    )


def _shipping(breakdown: dict[str, Any] | None) -> int:
    return int((breakdown or {}).get("shipping_minor", 0))


def mark_refund(uow: UnitOfWork, refund_id: uuid.UUID, state: str, note: str = "") -> None:
    """The payment system's answer: the refund was paid, or it failed (and may be tried again:
    a failed refund may be marked paid later). A paid refund is never marked again, and a
    held one (its return was resolved twice) waits for a supervisor."""
    auth.check(uow, Permission.REFUND)
    if state not in (PAID, FAILED):
        raise ValidationError("A refund is marked paid or failed.")
    row = uow.session.get(ReturnRefund, refund_id)
    if row is None:
        raise NotFoundError(
            f"Refund {refund_id} is not on this station — list the refunds to be paid and "
            "check the id."
        )
    check_mark(uow.session, row, state)
    row.state = state
    uow.session.flush()
    uow.record(
        REFUND_MARKED,
        {"refund_id": str(row.id), "state": state, "note": note[:200]},
        entity="return_refund",
        entity_id=row.id,
    )


def _exchange_order(uow: UnitOfWork, rma: Rma, order: Order) -> Order:
    s = uow.session
    # How many of each product came back at each price paid: the replacement is paid for by
    # the unit it replaces, so a return of it later pays back that price (one product bought
    # at two prices, on two lines, is replaced on two lines).
    wanted: Counter[tuple[uuid.UUID, int]] = Counter(
        (product_id, price)
        for product_id, price in s.execute(
            select(ReturnUnit.product_id, RmaLine.unit_price_minor)
            .join(RmaLine, RmaLine.id == ReturnUnit.rma_line_id)
            .where(ReturnUnit.rma_id == rma.id, ReturnUnit.unexpected.is_(False))
        )
    )
    if not wanted:
        raise ValidationError(
            f"Nothing on RMA {rma.number} came back as expected — there is nothing to exchange."
        )
    new = Order(
        id=new_id(),
        number=exchange_number(uow, rma),
        channel_id=order.channel_id,
        customer_id=order.customer_id,
        warehouse_id=order.warehouse_id,
        status=OrderStatus.CONFIRMED.value,
        placed_at=uow.now,
        ship_to=dict(order.ship_to or {}),
        hold_reason="",
        version=1,
        priority=order.priority,
    )
    s.add(new)
    s.flush()
    for line_no, ((product_id, price), qty) in enumerate(sorted(wanted.items()), start=1):
        product = s.get_one(Product, product_id)
        s.add(
            OrderLine(
                id=new_id(),
                order_id=new.id,
                line_no=line_no,
                product_id=product_id,
                qty_ordered=qty,
                qty_packed=0,
                qty_missing=0,
                location_id=product.home_location_id,
                unit_price_minor=price,
            )
        )
    s.flush()
    s.refresh(new)
    return new


def exchange_number(uow: UnitOfWork, rma: Rma) -> str:
    """The exchange order's number, after its RMA's: ``<RMA>-X`` at the station that made the
    RMA, ``<RMA>-X-<station>`` at any other. RMA numbers are unique and a station resolves a
    return once, so no two exchanges share a number, also when two desks resolved one return
    while offline. Should a cut to the column's 40 characters meet an order already here, a
    running number tells them apart."""
    number = f"{rma.number}-X"
    if rma.station_id != uow.actor.station_id:
        station = uow.session.get_one(Station, uow.actor.station_id)
        number += f"-{station.name.upper()}"
    return free_order_number(uow.session, number)


def free_order_number(s: Session, number: str) -> str:
    """``number`` (cut to 40 characters) when no order holds it, else it with ``-2``, ``-3``…"""
    wanted, n = number[:40], 1
    while s.scalar(select(Order.id).where(Order.number == wanted)) is not None:
        n += 1
        wanted = f"{number[: 39 - len(str(n))]}-{n}"
    return wanted


def _order_payload(uow: UnitOfWork, order: Order) -> dict[str, Any]:
    return {
        "id": str(order.id),
        "number": order.number,
        "channel_id": str(order.channel_id),
        "customer_id": str(order.customer_id),
        "warehouse_id": str(order.warehouse_id),
        "placed_at": order.placed_at.isoformat(),
        "ship_to": dict(order.ship_to or {}),
        "priority": order.priority,
        "lines": [
            {
                "id": str(ln.id),
                "line_no": ln.line_no,
                "product_id": str(ln.product_id),
                "qty_ordered": ln.qty_ordered,
                "location_id": None if ln.location_id is None else str(ln.location_id),
                "unit_price_minor": ln.unit_price_minor,
            }
            for ln in order.lines
        ],
    }


def _notify(
    uow: UnitOfWork,
    rma: Rma,
    resolution: rules.Resolution,
    amount: int,
    account: str | None,
    exchange: Order | None,
) -> CustomerNotification:
    customer = uow.session.get(Customer, rma.customer_id) if rma.customer_id else None
    greeting = f"Dear {customer.name}," if customer else "Hello,"
    if resolution is rules.Resolution.REFUND:
        what = f"we are refunding {money(amount, rma.currency)} to your original payment."
    elif resolution is rules.Resolution.STORE_CREDIT:
        what = f"{money(amount, rma.currency)} is now store credit on code {account}."
    else:
        assert exchange is not None
        what = f"your replacement is on its way as order {exchange.number}."
    note = CustomerNotification(
        id=new_id(),
        customer_id=rma.customer_id,
        rma_id=rma.id,
        kind=f"return_{resolution.value}",
        subject=f"Your return {rma.number}",
        body=f"{greeting}\n\nWe have received your return {rma.number}: {what}\n",
        status="pending",
        created_at=uow.now,
    )
    uow.session.add(note)
    return note


def refund_payload(r: ReturnRefund) -> dict[str, Any]:
    return {
        "id": str(r.id),
        "resolution": r.resolution,
        "amount_minor": r.amount_minor,
        "currency": r.currency,
        "state": r.state,
        "breakdown": dict(r.breakdown),
        "store_credit_account": r.store_credit_account,
        "exchange_order_id": None if r.exchange_order_id is None else str(r.exchange_order_id),
    }


def notification_payload(n: CustomerNotification) -> dict[str, Any]:
    return {
        "id": str(n.id),
        "customer_id": None if n.customer_id is None else str(n.customer_id),
        "kind": n.kind,
        "subject": n.subject,
        "body": n.body,
    }

"""The returns desk's operations applied centrally: RMAs, receipts, resolutions, refund states
and the return policy.

A receipt is a fact (the parcel is on the desk), so it is always accepted, with its ledger rows
through the stock facts' own path. When the RMA was received already (two desks booked the
same return in while offline), the second receipt does not receive it again: its units are kept
as unexpected (nothing is refunded for them, the stock they moved is where it physically is)
and a ``double_receipt`` task tells a supervisor. A second resolution of one return is kept with
its refund ``held`` (the payment system pays nothing held) and raises ``double_resolution``.
Only malformed operations are rejected.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import func, select

from app.domain import returns as rules
from app.domain.orders import OrderStatus
from app.ids import new_id
from app.services.returns import receiving, resolution, rmas
from app.store.models import (
    CustomerNotification,
    Order,
    OrderLine,
    ReturnPolicy,
    ReturnRefund,
    ReturnUnit,
    Rma,
    RmaLine,
    ScanEvent,
    Station,
    StoreCreditEntry,
)
from app.sync.appliers import ApplyContext, applier
from app.sync.appliers.payload import Checks
from app.sync.appliers.stock import insert_movements
from app.sync.ops import MalformedOpError, Op

DOUBLE_RECEIPT = "double_receipt"
DOUBLE_RESOLUTION = "double_resolution"
HELD = resolution.HELD
# What is held of a second resolution of one return, in the supervisor's task.
_HELD_WORDS = {
    rules.Resolution.REFUND.value: "refund is held (not paid)",
    rules.Resolution.STORE_CREDIT.value: "store credit is held (taken off its account again)",
    rules.Resolution.EXCHANGE.value: "exchange order is on hold (not picked)",
}


@applier(rmas.CREATED)
def rma_created(ctx: ApplyContext, op: Op) -> None:
    s = ctx.session
    rma_id = op.id_of("rma_id")
    if s.get(Rma, rma_id) is not None:
        raise _malformed(op, "that RMA is in the central database already")
    order = s.get(Order, op.id_of("order_id"))
    if order is None:
        raise _malformed(op, "its order is not in the central database")
    number = op.str_of("number").strip().upper()
    if not number or len(number) > 40:
        raise _malformed(op, "its number is empty or too long")
    if s.scalar(select(Rma.id).where(Rma.number == number)) is not None:
        raise _malformed(op, f"another RMA is numbered {number} centrally")
    requested = op.str_of("requested")
    _code(op, rules.Resolution, requested)
    s.add(
        Rma(
            id=rma_id,
            number=number,
            order_id=order.id,
            customer_id=order.customer_id,
            warehouse_id=order.warehouse_id,
            status=rmas.AUTHORISED,
            requested=requested,
            unannounced=bool(op.payload.get("unannounced", False)),
            currency=op.str_of("currency", "EUR")[:3],
            shipping_paid_minor=_check.whole(
                op, op.payload.get("shipping_paid_minor", 0), at_least=0
            ),
            note=op.str_of("note", "")[: rmas.MAX_NOTE],
            created_at=_check.when(op, op.payload.get("created_at")),
            created_by=op.str_of("created_by", "")[:100],
            station_id=ctx.station_id,
            late_approved_by=(op.opt_str("late_approved_by") or None),
            version=1,
        )
    )
    s.flush()
    order_lines = {ln.id for ln in order.lines}
    for raw in op.list_of("lines"):
        line = _check.record(op, raw)
        order_line = _check.id(op, line.get("order_line_id"))
        if order_line not in order_lines:
            raise _malformed(op, "one of its lines is not on the order")
        qty = _check.whole(op, line.get("qty"), at_least=0)
        if qty <= 0:
            raise _malformed(op, "one of its lines has no units")
        reason = str(line.get("reason"))
        _code(op, rules.Reason, reason)
        row = RmaLine(
            id=_check.id(op, line.get("id")),
            rma_id=rma_id,
            warehouse_id=order.warehouse_id,
            order_line_id=order_line,
            product_id=_check.id(op, line.get("product_id")),
            qty=qty,
            reason=reason,
            unit_price_minor=_check.whole(op, line.get("unit_price_minor"), at_least=0),
            qty_received=0,
        )
        s.add(row)
        ctx.touch("rma_line", row.id)
    s.flush()
    ctx.touch("rma", rma_id)
    _over_returned(ctx, order, rma_id, number)


def _over_returned(ctx: ApplyContext, order: Order, rma_id: uuid.UUID, number: str) -> None:
    """Two desks made RMAs for one order offline (unannounced parcels): more units may now be
    on returns than were shipped. Both stand (the parcels are real); a supervisor checks."""
    on_rmas = dict(
        ctx.session.execute(
            select(RmaLine.order_line_id, func.sum(RmaLine.qty))
            .join(Rma, Rma.id == RmaLine.rma_id)
            .where(Rma.order_id == order.id, Rma.status != rmas.CANCELLED)
            .group_by(RmaLine.order_line_id)
        ).all()
    )
    over = [
        ln.product.sku
        for ln in order.lines
        if int(on_rmas.get(ln.id) or 0) > ln.qty_ordered - ln.qty_missing
    ]
    if over:
        ctx.raise_task(
            DOUBLE_RECEIPT,
            "rma",
            rma_id,
            {
                "number": number,
                "order": order.number,
                "station": _station_name(ctx, ctx.station_id),
                "skus": over,
                "message": (
                    f"Order {order.number} has more units on returns than it shipped "
                    f"({', '.join(over)}) after RMA {number} — check the parcels before "
                    "anything is refunded."
                ),
            },
            warehouse_id=order.warehouse_id,
        )


@applier(receiving.RECEIVED)
def received(ctx: ApplyContext, op: Op) -> None:
    s = ctx.session
    rma = _rma(ctx, op)
    lines = {ln.id: ln for ln in s.scalars(select(RmaLine).where(RmaLine.rma_id == rma.id))}
    first = rma.status == rmas.AUTHORISED
    units = []
    for raw in op.list_of("units"):
        u = _check.record(op, raw)
        line_id = _check.opt_id(op, u.get("rma_line_id"))
        if line_id is not None and line_id not in lines:
            raise _malformed(op, "one of its units names a line the RMA does not have")
        condition, disposition = str(u.get("condition")), str(u.get("disposition"))
        _code(op, rules.Condition, condition)
        _code(op, rules.Disposition, disposition)
        photos = u.get("photos") or []
        if not isinstance(photos, list):
            raise _malformed(op, "a unit's photos are not a list")
        unit = ReturnUnit(
            id=_check.id(op, u.get("id")),
            rma_id=rma.id,
            warehouse_id=rma.warehouse_id,
            # A second receipt of one RMA counts for nothing on it: its units are unexpected.
            rma_line_id=line_id if first else None,
            product_id=_check.id(op, u.get("product_id")),
            serial=(str(u["serial"])[:40] if u.get("serial") else None),
            condition=condition,
            disposition=disposition,
            location_id=_check.opt_id(op, u.get("location_id")),
            photos={"paths": [str(p) for p in photos]},
            unexpected=bool(u.get("unexpected")) or not first,
            received_at=_check.when(op, op.payload.get("received_at")),
            station_id=ctx.station_id,
            operator=op.str_of("operator_name", "")[:100],
        )
        units.append(unit)
        if first and line_id is not None:
            lines[line_id].qty_received += 1
    if not units:
        raise _malformed(op, "it carries no units")
    if s.scalar(select(ReturnUnit.id).where(ReturnUnit.id.in_([u.id for u in units])).limit(1)):
        raise _malformed(op, "one of its units is in the central database already")
    s.add_all(units)
    if first:
        rma.status = rmas.RECEIVED
        rma.received_at = _check.when(op, op.payload.get("received_at"))
        rma.received_station = ctx.station_id
        rma.received_op = op.op_id
        rma.late_approved_by = rma.late_approved_by or op.opt_str("late_approved_by")
    rma.version += 1
    s.flush()
    if op.has("movements") and op.list_of("movements"):
        insert_movements(ctx, op, op.list_of("movements"), receiving.REASONS)
    if op.has("scans"):
        s.add_all(_scan_events(ctx, op, rma))
    for unit in units:
        ctx.touch("return_unit", unit.id)
    for line in lines.values():
        ctx.touch("rma_line", line.id)
    ctx.touch("rma", rma.id)
    if not first:
        _double_receipt(ctx, rma, units)


def _scan_events(ctx: ApplyContext, op: Op, rma: Rma) -> list[ScanEvent]:
    """The desk's accepted scans of the parcel: facts, kept as the station recorded them."""
    events = []
    for raw in op.list_of("scans"):
        e = _check.record(op, raw)
        kind = e.get("resolved_kind")
        events.append(
            ScanEvent(
                id=_check.id(op, e.get("id")),
                at=_check.when(op, e.get("at")),
                station_id=ctx.station_id,
                operator_id=op.opt_id("operator_id"),
                workflow=receiving.WORKFLOW,
                raw=str(e.get("raw", ""))[:300],
                resolved_kind=str(kind)[:20] if kind else None,
                entity_id=_check.opt_id(op, e.get("entity_id")),
                order_id=rma.order_id,
                outcome="accepted",
                message=str(e.get("message", "")),
            )
        )
    return events


def _double_receipt(ctx: ApplyContext, rma: Rma, units: list[ReturnUnit]) -> None:
    here = _station_name(ctx, ctx.station_id)
    there = _station_name(ctx, rma.received_station) if rma.received_station else "another desk"
    ctx.raise_task(
        DOUBLE_RECEIPT,
        "rma",
        rma.id,
        {
            "number": rma.number,
            "station_id": str(ctx.station_id),
            "station": here,
            "first_station": there,
            "first_op_id": None if rma.received_op is None else str(rma.received_op),
            "units": len(units),
            "unit_ids": [str(u.id) for u in units],
            "message": (
                f"RMA {rma.number} was received at {there} and again at {here} — the second "
                f"parcel's {len(units)} unit(s) were kept as unexpected; check both parcels "
                "before anything is refunded again."
            ),
        },
        warehouse_id=rma.warehouse_id,
    )


@applier(resolution.RESOLVED)
def resolved(ctx: ApplyContext, op: Op) -> None:
    s = ctx.session
    rma = _rma(ctx, op)
    r = _check.record(op, op.payload.get("refund"))
    res = str(r.get("resolution"))
    _code(op, rules.Resolution, res)
    breakdown = r.get("breakdown") or {}
    if not isinstance(breakdown, dict):
        raise _malformed(op, "its refund breakdown is not a record")
    first = rma.status == rmas.RECEIVED
    state = str(r.get("state"))
    if state not in (resolution.TO_BE_PAID, resolution.DONE):
        raise _malformed(op, f"a new refund cannot be {state!r}")
    row = ReturnRefund(
        id=_check.id(op, r.get("id")),
        rma_id=rma.id,
        warehouse_id=rma.warehouse_id,
        resolution=res,
        amount_minor=_check.whole(op, r.get("amount_minor"), at_least=0),
        currency=str(r.get("currency") or rma.currency)[:3],
        state=state if first or state == resolution.DONE else HELD,
        breakdown=breakdown,
        store_credit_account=str(r["store_credit_account"])[:40]
        if r.get("store_credit_account")
        else None,
        exchange_order_id=_check.opt_id(op, r.get("exchange_order_id")),
        created_at=_check.when(op, op.payload.get("resolved_at")),
        station_id=ctx.station_id,
        operator=op.str_of("operator_name", "")[:100],
    )
    s.add(row)
    if first:
        rma.status = rmas.RESOLVED
        rma.resolved_at = row.created_at
    rma.version += 1
    renamed: tuple[str, str] | None = None
    held_why = f"RMA {rma.number} was resolved twice — a supervisor decides which resolution stands"
    if op.has("exchange_order"):
        exchange = _check.record(op, op.payload["exchange_order"])
        renamed = _exchange_order(ctx, op, exchange, hold=None if first else held_why)
    if not first and res == rules.Resolution.STORE_CREDIT.value and row.store_credit_account:
        _hold_credit(ctx, row, held_why)
    if op.has("notification"):
        n = _check.record(op, op.payload["notification"])
        body = str(n.get("body", ""))
        if renamed is not None:
            body = body.replace(f"order {renamed[0]}.", f"order {renamed[1]}.")
        s.add(
            CustomerNotification(
                id=_check.id(op, n.get("id")),
                customer_id=_check.opt_id(op, n.get("customer_id")),
                rma_id=rma.id,
                kind=str(n.get("kind", ""))[:30],
                subject=str(n.get("subject", ""))[:200],
                body=body,
                status="pending",
                created_at=row.created_at,
            )
        )
    s.flush()
    ctx.touch("return_refund", row.id)
    ctx.touch("rma", rma.id)
    if not first:
        ctx.raise_task(
            DOUBLE_RESOLUTION,
            "rma",
            rma.id,
            {
                "number": rma.number,
                "refund_id": str(row.id),
                "station": _station_name(ctx, ctx.station_id),
                "amount_minor": row.amount_minor,
                "message": (
                    f"RMA {rma.number} was resolved twice — the second "
                    f"{_HELD_WORDS.get(res, 'resolution is held')}; decide which one stands."
                ),
            },
            warehouse_id=rma.warehouse_id,
        )


def _hold_credit(ctx: ApplyContext, row: ReturnRefund, why: str) -> None:
    """A second resolution's store credit is held: an entry takes it off its account again
    (the first resolution's stands until a supervisor decides)."""
    from app.sync.appliers.counter import CREDIT

    assert row.store_credit_account is not None
    entry = StoreCreditEntry(
        id=new_id(),
        account=row.store_credit_account,
        kind="store_credit",
        amount_minor=-row.amount_minor,
        currency=row.currency,
        sale_id=None,
        reason=f"held: {why}"[:200],
        at=row.created_at,
        station_id=ctx.station_id,
    )
    ctx.session.add(entry)
    ctx.session.flush()
    ctx.touch(CREDIT, entry.id)


def _exchange_order(
    ctx: ApplyContext, op: Op, o: dict[str, Any], *, hold: str | None = None
) -> tuple[str, str] | None:
    """The exchange order, confirmed. Desks number it after its RMA (and their own name when
    they did not make the RMA), so two desks never send one number; an order central holds
    under the number sent already (a resolution queued by a desk that numbered exchanges
    after their order) keeps the exchange under a free one (``-2``…), which the feed takes
    back to the desk. Returns (number sent, number kept) when they differ."""
    s = ctx.session
    order_id = _check.id(op, o.get("id"))
    if s.get(Order, order_id) is not None:
        raise _malformed(op, "its exchange order is in the central database already")
    sent = str(o.get("number", "")).strip()[:40]
    if not sent:
        raise _malformed(op, "its exchange order has no number")
    number = resolution.free_order_number(s, sent)
    s.add(
        Order(
            id=order_id,
            number=number,
            channel_id=_check.id(op, o.get("channel_id")),
            customer_id=_check.id(op, o.get("customer_id")),
            warehouse_id=_check.id(op, o.get("warehouse_id")),
            # A second resolution's exchange waits on hold: it is not picked meanwhile.
            status=(OrderStatus.CONFIRMED if hold is None else OrderStatus.ON_HOLD).value,
            placed_at=_check.when(op, o.get("placed_at")),
            ship_to=o.get("ship_to") if isinstance(o.get("ship_to"), dict) else {},
            hold_reason=(hold or "")[:200],
            version=1,
            priority=_check.whole(op, o.get("priority", 0), at_least=0),
        )
    )
    s.flush()
    for raw in o.get("lines") or []:
        ln = _check.record(op, raw)
        s.add(
            OrderLine(
                id=_check.id(op, ln.get("id")),
                order_id=order_id,
                line_no=_check.whole(op, ln.get("line_no"), at_least=0),
                product_id=_check.id(op, ln.get("product_id")),
                qty_ordered=_check.whole(op, ln.get("qty_ordered"), at_least=0),
                qty_packed=0,
                qty_missing=0,
                location_id=_check.opt_id(op, ln.get("location_id")),
                unit_price_minor=_check.opt_whole(op, ln.get("unit_price_minor")),
            )
        )
    s.flush()
    ctx.touch("order", order_id)
    return None if number == sent else (sent, number)


@applier(resolution.REFUND_MARKED)
def refund_marked(ctx: ApplyContext, op: Op) -> None:
    row = ctx.session.get(ReturnRefund, op.id_of("refund_id"))
    if row is None:
        raise _malformed(op, "its refund is not in the central database")
    state = op.str_of("state")
    if state not in (resolution.PAID, resolution.FAILED):
        raise _malformed(op, f"a refund cannot be marked {state!r}")
    # Another station may have marked it first, or the return was resolved twice (held).
    resolution.check_mark(ctx.session, row, state)
    row.state = state
    ctx.session.flush()
    ctx.touch("return_refund", row.id)


@applier(rmas.POLICY_SET)
def policy_set(ctx: ApplyContext, op: Op) -> None:
    p = _check.record(op, op.payload.get("policy"))
    free = p.get("free_reasons") or {}
    deductions = p.get("deductions_bp") or {}
    if not isinstance(free, dict) or not isinstance(deductions, dict):
        raise _malformed(op, "its reasons or deductions are not records")
    row = ReturnPolicy(
        id=_check.id(op, p.get("id")),
        company_id=_check.opt_id(op, p.get("company_id")),
        window_days=_check.whole(op, p.get("window_days"), at_least=0),
        free_reasons=free,
        restocking_fee_bp=_check.whole(op, p.get("restocking_fee_bp"), at_least=0),
        restocking_fee_minor=_check.whole(op, p.get("restocking_fee_minor"), at_least=0),
        refund_shipping=bool(p.get("refund_shipping")),
        deductions_bp=deductions,
        updated_at=_check.when(op, p.get("updated_at")),
    )
    try:
        rmas.policy_of(row)
    except ValueError as e:
        raise _malformed(op, f"its policy does not read ({e})") from None
    ctx.session.add(row)
    ctx.session.flush()
    ctx.touch("return_policy", row.id)


# ----------------------------------------------------------------------------- payload parts


def _rma(ctx: ApplyContext, op: Op) -> Rma:
    rma = ctx.session.get(Rma, op.id_of("rma_id"), with_for_update=True)
    if rma is None:
        raise _malformed(op, "its RMA is not in the central database")
    return rma


def _station_name(ctx: ApplyContext, station_id: uuid.UUID) -> str:
    name = ctx.session.scalar(select(Station.name).where(Station.id == station_id))
    return name or str(station_id)


def _code(op: Op, enum: Any, value: str) -> None:
    try:
        enum(value)
    except ValueError:
        raise _malformed(op, f"{value!r} is no code the returns desk knows") from None


def _malformed(op: Op, what: str) -> MalformedOpError:
    return MalformedOpError(
        f"Returns operation {op.kind} (#{op.seq}) was not recorded centrally: {what}. "
        "The desk's own records are unchanged; tell support."
    )


_check = Checks(_malformed)
